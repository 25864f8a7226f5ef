/*
 * gzip.c - a layer gzipped while it uploads, on every core.
 *
 * zlib was four fifths of a push's CPU. libdeflate compresses two to three
 * times faster at a better ratio, but only whole buffers, so the stream is
 * cut into fixed chunks, each one gzip member of its own (RFC 1952 allows a
 * file of several members; Go's gzip reader, containerd and libarchive read
 * them as one stream, as they read pigz's output). Independent members also
 * let several threads compress one layer at once, which matters for an image
 * with one big layer. Chunks are cut at fixed offsets of the tar stream, so
 * the same layer always gives the same bytes and the same digest.
 *
 * One thread runs the producer (the tar rebuilt from the layer store), a few
 * compress filled chunks from a ring, and the upload (curl's read callback)
 * takes them back in order, hashing what it sends.
 */
#include <libdeflate.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define CHUNK (1024 * 1024)
#define SLOTS 6
#define MAX_COMPRESSORS 4
/* libdeflate's fastest level: better than zlib's level 6 ratio on tars of
 * binaries at a fraction of its time; the registry is usually near */
#define LEVEL 1

/* A chunk whose sampled bytes are this close to uniform (8 bits each) is
 * already compressed (media, archives): deflate would spend its time for
 * nothing, and it goes into stored blocks. A sample from a few kilobytes of
 * random bytes repeated would be below: that still compresses. */
#define SAMPLE 4096
#define SAMPLES 16
#define STORED_ENTROPY 7.97

typedef enum slot_state { SLOT_FREE, SLOT_FILLED, SLOT_BUSY, SLOT_DONE } slot_state;

typedef struct slot {
	slot_state state;
	unsigned char *in, *out;
	size_t in_len, out_len, out_off;
} slot;

struct reg_gzip {
	reg_gzip_fill_fn fill;
	void *ud;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	slot slots[SLOTS];
	size_t out_cap;
	/* sequence numbers of chunks; a chunk's slot is its number % SLOTS */
	uint64_t filling, compressing, reading;
	bool produced;          /* the producer has filled its last chunk */
	bool stopped;           /* the upload is over: everyone gives up */
	berth_error *err;       /* the producer's failure (compressing cannot fail) */
	EVP_MD_CTX *sha;
	int64_t sent;
	pthread_t producer;
	pthread_t compressors[MAX_COMPRESSORS];
	size_t ncompressors;
};

static void *map(size_t len)
{
	/* mmap, not malloc: glibc would keep megabytes per thread arena after a push */
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	return p;
}

static void fail(reg_gzip *gz, berth_error **e)
{
	pthread_mutex_lock(&gz->mu);
	if (gz->err == NULL)
		gz->err = berth_steal_ptr(e);
	berth_error_free(e);
	gz->stopped = true;
	pthread_cond_broadcast(&gz->cv);
	pthread_mutex_unlock(&gz->mu);
}

/* Hands the chunk being filled to the compressors. Called with mu held. */
static void submit(reg_gzip *gz)
{
	gz->slots[gz->filling % SLOTS].state = SLOT_FILLED;
	gz->filling++;
	pthread_cond_broadcast(&gz->cv);
}

int reg_gzip_write(reg_gzip *gz, const void *data, size_t len, berth_error **err)
{
	const unsigned char *p = data;
	while (len > 0) {
		slot *s = &gz->slots[gz->filling % SLOTS];
		size_t n = CHUNK - s->in_len < len ? CHUNK - s->in_len : len;
		memcpy(s->in + s->in_len, p, n);
		s->in_len += n;
		p += n;
		len -= n;
		if (s->in_len == CHUNK) {
			/* the next chunk waits for its slot to come back from the upload */
			pthread_mutex_lock(&gz->mu);
			submit(gz);
			s = &gz->slots[gz->filling % SLOTS];
			while (!gz->stopped && s->state != SLOT_FREE)
				pthread_cond_wait(&gz->cv, &gz->mu);
			bool stopped = gz->stopped;
			pthread_mutex_unlock(&gz->mu);
			if (stopped)
				return berth_error_set(err, 500, "push cancelled");
			s->in_len = 0;
		}
	}
	return 0;
}

static void *produce(void *arg)
{
	reg_gzip *gz = arg;
	berth_error *e = NULL;
	if (gz->fill(gz->ud, gz, &e) < 0) {
		fail(gz, &e);
		return NULL;
	}
	pthread_mutex_lock(&gz->mu);
	/* the last, partial chunk; an empty stream still makes one (empty) member */
	if (gz->slots[gz->filling % SLOTS].in_len > 0 || gz->filling == 0)
		submit(gz);
	gz->produced = true;
	pthread_cond_broadcast(&gz->cv);
	pthread_mutex_unlock(&gz->mu);
	return NULL;
}

/* Shannon entropy, in bits per byte, of SAMPLES spread over the chunk, as
 * filesystems that compress decide whether to bother. */
static bool incompressible(const unsigned char *p, size_t len)
{
	if (len < SAMPLE * SAMPLES)
		return false;
	uint32_t count[256] = {0};
	size_t stride = len / SAMPLES;
	for (size_t i = 0; i < SAMPLES; i++)
		for (size_t j = 0; j < SAMPLE; j++)
			count[p[i * stride + j]]++;
	double bits = 0, total = SAMPLE * SAMPLES;
	for (size_t b = 0; b < 256; b++)
		if (count[b])
			bits -= count[b] / total * log2(count[b] / total);
	return bits >= STORED_ENTROPY;
}

static void *compress_chunks(void *arg)
{
	reg_gzip *gz = arg;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(LEVEL);
	struct libdeflate_compressor *stored = libdeflate_alloc_compressor(0);
	if (c == NULL || stored == NULL)
		abort();
	pthread_mutex_lock(&gz->mu);
	for (;;) {
		while (!gz->stopped && gz->compressing == gz->filling && !gz->produced)
			pthread_cond_wait(&gz->cv, &gz->mu);
		if (gz->stopped || gz->compressing == gz->filling)
			break;
		slot *s = &gz->slots[gz->compressing++ % SLOTS];
		s->state = SLOT_BUSY;
		pthread_mutex_unlock(&gz->mu);
		s->out_len = libdeflate_gzip_compress(incompressible(s->in, s->in_len) ? stored : c,
						      s->in, s->in_len, s->out, gz->out_cap);
		pthread_mutex_lock(&gz->mu);
		if (s->out_len == 0)
			abort(); /* out_cap is libdeflate's own bound */
		s->out_off = 0;
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&gz->cv);
	}
	pthread_mutex_unlock(&gz->mu);
	libdeflate_free_compressor(c);
	libdeflate_free_compressor(stored);
	return NULL;
}

static size_t compressors_wanted(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus < 1 ? 1 : cpus > MAX_COMPRESSORS ? MAX_COMPRESSORS : (size_t)cpus;
}

reg_gzip *reg_gzip_start(reg_gzip_fill_fn fill, void *ud)
{
	reg_gzip *gz = berth_xcalloc(1, sizeof(*gz));
	gz->fill = fill;
	gz->ud = ud;
	pthread_mutex_init(&gz->mu, NULL);
	pthread_cond_init(&gz->cv, NULL);
	for (int level = 0; level <= LEVEL; level += LEVEL) {
		struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
		size_t bound = libdeflate_gzip_compress_bound(c, CHUNK);
		gz->out_cap = bound > gz->out_cap ? bound : gz->out_cap;
		libdeflate_free_compressor(c);
	}
	for (size_t i = 0; i < SLOTS; i++) {
		gz->slots[i].in = map(CHUNK);
		gz->slots[i].out = map(gz->out_cap);
	}
	gz->sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(gz->sha, EVP_sha256(), NULL);
	size_t want = compressors_wanted();
	for (size_t i = 0; i < want; i++)
		if (pthread_create(&gz->compressors[gz->ncompressors], NULL, compress_chunks, gz) == 0)
			gz->ncompressors++;
	if (gz->ncompressors == 0 || pthread_create(&gz->producer, NULL, produce, gz) != 0)
		abort();
	return gz;
}

size_t reg_gzip_read(char *buf, size_t size, size_t n, void *ud)
{
	reg_gzip *gz = ud;
	pthread_mutex_lock(&gz->mu);
	slot *s = &gz->slots[gz->reading % SLOTS];
	while (!gz->stopped && !(gz->produced && gz->reading == gz->filling) &&
	       s->state != SLOT_DONE)
		pthread_cond_wait(&gz->cv, &gz->mu);
	if (gz->stopped) {
		pthread_mutex_unlock(&gz->mu);
		return CURL_READFUNC_ABORT;
	}
	if (gz->reading == gz->filling) { /* produced, all read */
		pthread_mutex_unlock(&gz->mu);
		return 0;
	}
	pthread_mutex_unlock(&gz->mu);
	/* a done slot is the reader's alone until it frees it */
	if (s->out_off == 0)
		EVP_DigestUpdate(gz->sha, s->out, s->out_len);
	size_t take = s->out_len - s->out_off < size * n ? s->out_len - s->out_off : size * n;
	memcpy(buf, s->out + s->out_off, take);
	s->out_off += take;
	gz->sent += (int64_t)take;
	if (s->out_off == s->out_len) {
		pthread_mutex_lock(&gz->mu);
		s->state = SLOT_FREE;
		gz->reading++;
		pthread_cond_broadcast(&gz->cv);
		pthread_mutex_unlock(&gz->mu);
	}
	return take;
}

int reg_gzip_finish(reg_gzip *gz, char digest[DIGEST_LEN + 1], int64_t *size, berth_error **err)
{
	pthread_mutex_lock(&gz->mu);
	/* what fails after this is the stop's doing, not a cause */
	berth_error *cause cleanup_error = berth_steal_ptr(&gz->err);
	gz->stopped = true;
	pthread_cond_broadcast(&gz->cv);
	pthread_mutex_unlock(&gz->mu);
	pthread_join(gz->producer, NULL);
	for (size_t i = 0; i < gz->ncompressors; i++)
		pthread_join(gz->compressors[i], NULL);
	reg_sha256_final(gz->sha, digest);
	*size = gz->sent;
	berth_error_free(&gz->err);
	int rc = cause ? berth_error_propagate(&cause, err) : 0;
	for (size_t i = 0; i < SLOTS; i++) {
		munmap(gz->slots[i].in, CHUNK);
		munmap(gz->slots[i].out, gz->out_cap);
	}
	EVP_MD_CTX_free(gz->sha);
	pthread_cond_destroy(&gz->cv);
	pthread_mutex_destroy(&gz->mu);
	free(gz);
	return rc;
}
