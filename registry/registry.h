/*
 * registry.h - the distribution API client: pull, push, login.
 *
 * References are the image store's (berth_image_ref_parse normalizes them as
 * distribution/reference does); this module turns them into registry hosts
 * and repositories, speaks the distribution API v2 / OCI distribution with
 * libcurl (one connection cache shared by the parallel transfers of an
 * operation), authenticates (anonymous, Basic, Bearer tokens cached by
 * scope), and moves blobs between the registry and the image store: pulled
 * layers are verified and extracted while they stream, pushed layers are
 * compressed while they upload.
 *
 * Every operation blocks: berthd runs them in its thread pool. Progress is
 * reported as dockerd's jsonmessage objects, from several threads at once.
 */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

#include "common.h"
#include "engine/image/image.h"

/* What daemon.json says about registries. */
typedef struct berth_registry_config {
	char **insecure;      /* insecure-registries: "host:port" or CIDRs */
	char **mirrors;       /* registry-mirrors, for docker.io */
	char **certs_dirs;    /* searched for HOST[:PORT]/{*.crt,*.cert,*.key} */
	int max_downloads;    /* max-concurrent-downloads (3) */
	int max_uploads;      /* max-concurrent-uploads (5) */
	int attempts;         /* max-download-attempts (5) */
} berth_registry_config;

/* Defaults, then daemon.json's keys from `file` (may be NULL). certs_dir is
 * berth's own certs.d, searched before /etc/docker/certs.d. */
void berth_registry_config_init(berth_registry_config *c, const json_t *file,
				const char *certs_dir, int64_t downloads, int64_t uploads);
void berth_registry_config_reset(berth_registry_config *c);

/* ------------------------------------------------------------------ auth */

/* Docker's AuthConfig: what X-Registry-Auth carries and POST /auth takes. */
typedef struct berth_registry_auth {
	char *username;
	char *password;
	char *identitytoken;
	char *registrytoken;
	char *serveraddress;
} berth_registry_auth;

/* X-Registry-Auth: base64url (padded or not) of the AuthConfig JSON. An
 * empty or absent header is anonymous; garbage is ignored as dockerd does. */
void berth_registry_auth_decode(const char *header, berth_registry_auth *out);
/* The same from a JSON object (POST /auth's body). */
void berth_registry_auth_from_json(const json_t *j, berth_registry_auth *out);
void berth_registry_auth_reset(berth_registry_auth *a);

/* ------------------------------------------------------------- manifests */

typedef struct berth_registry_desc {
	char *media_type;
	char *digest;
	int64_t size;
	char *os, *arch, *variant; /* index entries only */
	char **urls;               /* foreign layers */
} berth_registry_desc;

typedef enum berth_registry_kind {
	BERTH_REGISTRY_IMAGE, /* docker schema2 or OCI image manifest */
	BERTH_REGISTRY_INDEX, /* docker manifest list or OCI index */
} berth_registry_kind;

typedef struct berth_registry_manifest {
	berth_registry_kind kind;
	char *media_type;
	berth_registry_desc config;
	berth_registry_desc *descs; /* layers, or an index's manifests */
	size_t n;
} berth_registry_manifest;

/* Parses a manifest by its Content-Type (or its mediaType member when the
 * header says nothing useful). Schema 1 is refused with dockerd's message. */
int berth_registry_manifest_parse(const char *content_type, const char *data, size_t len,
				  berth_registry_manifest *out, berth_error **err);
void berth_registry_manifest_reset(berth_registry_manifest *m);
/* Picks the index entry for "os/arch[/variant]" (NULL: linux and the host's
 * architecture), as containerd's platform matcher does. 404 with dockerd's
 * "no matching manifest for linux/arm64 in the manifest list entries". */
int berth_registry_platform_select(const berth_registry_manifest *index, const char *platform,
				   size_t *out, berth_error **err);

/* "docker.io/library/busybox" -> "docker.io", "library/busybox". */
void berth_registry_split_name(const char *name, char **host, char **repo);

/* ------------------------------------------------------------ operations */

typedef void (*berth_registry_progress_fn)(void *userdata, json_t *msg);

typedef struct berth_registry_op {
	const berth_registry_config *cfg;
	berth_image_store *store;
	const berth_registry_auth *auth;
	berth_registry_progress_fn progress; /* called from several threads */
	void *userdata;
} berth_registry_op;

/* POST /images/create?fromImage: pulls `ref` ("busybox", "host:5000/a:t",
 * "a@sha256:..") for platform (NULL: the host's), in two steps so that what
 * fails before the first byte of progress (a bad name, no such manifest,
 * unauthorized) can be an HTTP error as dockerd makes it: prepare finds the
 * manifest and config, run downloads and commits (*id, may be NULL, gets
 * the image ID). op is copied; what it points to must outlive the plan. */
typedef struct berth_registry_pull_plan berth_registry_pull_plan;
int berth_registry_pull_prepare(const berth_registry_op *op, const char *ref,
				const char *platform, berth_registry_pull_plan **out, berth_error **err);
/* docker pull --all-tags: a name without tag or digest is every tag of the
 * repository (tags/list), pulled in turn by run (*id: the last one's). */
int berth_registry_pull_prepare_all(const berth_registry_op *op, const char *ref,
				    const char *platform, berth_registry_pull_plan **out,
				    berth_error **err);
int berth_registry_pull_run(berth_registry_pull_plan *p, char **id, berth_error **err);
/* "busybox:latest" ("busybox" for every tag), for the pull event. */
const char *berth_registry_pull_familiar(const berth_registry_pull_plan *p);
void berth_registry_pull_free(berth_registry_pull_plan *p);

/* POST /images/{name}/push: pushes name:tag (every tag of name when tag is
 * NULL or ""). */
int berth_registry_push(const berth_registry_op *op, const char *name, const char *tag,
			berth_error **err);

/* POST /auth: checks the credentials against serveraddress's registry.
 * *identity_token gets a token when the registry gave one (may be NULL). */
int berth_registry_login(const berth_registry_config *cfg, const berth_registry_auth *auth,
			 char **identity_token, berth_error **err);

/* GET /distribution/{name}/json: {"Descriptor": {...}, "Platforms": [...]}. */
int berth_registry_inspect(const berth_registry_config *cfg, const berth_registry_auth *auth,
			   const char *ref, json_t **out, berth_error **err);

#endif
