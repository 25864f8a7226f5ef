/*
 * inspect_types.c - the Go types docker inspect runs a --format template on
 * first (container.InspectResponse, image.InspectResponse, network.Inspect,
 * volume.Volume of the docker CLI 28): fields in their Go order, with the
 * JSON key where it differs from the Go name.
 *
 * One struct a line: `name{Field type; Go:JSONKey type; Field? type; ^type}`
 * ("?": omitempty, json leaves the field out when empty); a type is
 * s (string), i (integers), f (float64), b (bool), t (time.Time), d
 * (time.Duration), a (interface{} or a type berth does not describe),
 * []T, map[T], *T, or a struct's name ("struct" is struct{}); `^T` is an embedded
 * struct.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char schema[] =
	/* containers */
	"container.InspectResponse{^*container.ContainerJSONBase; Mounts "
	"[]container.MountPoint; Config *container.Config; NetworkSettings "
	"*container.NetworkSettings; ImageManifestDescriptor? *a}\n"
	"container.ContainerJSONBase{ID:Id s; Created s; Path s; Args []s; State "
	"*container.State; Image s; ResolvConfPath s; HostnamePath s; HostsPath s; LogPath s; "
	"Name s; RestartCount i; Driver s; Platform s; MountLabel s; ProcessLabel s; "
	"AppArmorProfile s; ExecIDs []s; HostConfig *container.HostConfig; GraphDriver "
	"storage.DriverData; SizeRw? *i; SizeRootFs? *i}\n"
	"container.State{Status s; Running b; Paused b; Restarting b; OOMKilled b; Dead b; Pid "
	"i; ExitCode i; Error s; StartedAt s; FinishedAt s; Health? *container.Health}\n"
	"container.Health{Status s; FailingStreak i; Log []*container.HealthcheckResult}\n"
	"container.HealthcheckResult{Start t; End t; ExitCode i; Output s}\n"
	"container.HostConfig{Binds []s; ContainerIDFile s; LogConfig container.LogConfig; "
	"NetworkMode s; PortBindings map[[]nat.PortBinding]; RestartPolicy "
	"container.RestartPolicy; AutoRemove b; VolumeDriver s; VolumesFrom []s; ConsoleSize "
	"[]i; Annotations? map[s]; CapAdd []s; CapDrop []s; CgroupnsMode s; DNS:Dns []s; "
	"DNSOptions:DnsOptions []s; DNSSearch:DnsSearch []s; ExtraHosts []s; GroupAdd []s; "
	"IpcMode s; Cgroup s; Links []s; OomScoreAdj i; PidMode s; Privileged b; "
	"PublishAllPorts b; ReadonlyRootfs b; SecurityOpt []s; StorageOpt? map[s]; Tmpfs? "
	"map[s]; UTSMode s; UsernsMode s; ShmSize i; Sysctls? map[s]; Runtime s; Isolation s; "
	"^container.Resources; Mounts? []a; MaskedPaths []s; ReadonlyPaths []s; Init? *b}\n"
	"container.Resources{CPUShares:CpuShares i; Memory i; NanoCPUs:NanoCpus i; CgroupParent "
	"s; BlkioWeight i; BlkioWeightDevice []a; BlkioDeviceReadBps []a; BlkioDeviceWriteBps "
	"[]a; BlkioDeviceReadIOps []a; BlkioDeviceWriteIOps []a; CPUPeriod:CpuPeriod i; "
	"CPUQuota:CpuQuota i; CPURealtimePeriod:CpuRealtimePeriod i; "
	"CPURealtimeRuntime:CpuRealtimeRuntime i; CpusetCpus s; CpusetMems s; Devices "
	"[]container.DeviceMapping; DeviceCgroupRules []s; DeviceRequests []a; KernelMemory? i; "
	"KernelMemoryTCP? i; MemoryReservation i; MemorySwap i; MemorySwappiness *i; "
	"OomKillDisable *b; PidsLimit *i; Ulimits []*units.Ulimit; CPUCount:CpuCount i; "
	"CPUPercent:CpuPercent i; IOMaximumIOps i; IOMaximumBandwidth i}\n"
	"container.LogConfig{Type s; Config map[s]}\n"
	"container.RestartPolicy{Name s; MaximumRetryCount i}\n"
	"container.DeviceMapping{PathOnHost s; PathInContainer s; CgroupPermissions s}\n"
	"nat.PortBinding{HostIP:HostIp s; HostPort s}\n"
	"units.Ulimit{Name s; Hard i; Soft i}\n"
	"storage.DriverData{Data map[s]; Name s}\n"
	"container.MountPoint{Type s; Name? s; Source s; Destination s; Driver? s; Mode s; RW "
	"b; Propagation s}\n"
	"container.Config{Hostname s; Domainname s; User s; AttachStdin b; AttachStdout b; "
	"AttachStderr b; ExposedPorts? map[struct]; Tty b; OpenStdin b; StdinOnce b; Env []s; "
	"Cmd []s; Healthcheck? *container.HealthConfig; ArgsEscaped? b; Image s; Volumes "
	"map[struct]; WorkingDir s; Entrypoint []s; NetworkDisabled? b; MacAddress? s; OnBuild "
	"[]s; Labels map[s]; StopSignal? s; StopTimeout? *i; Shell? []s}\n"
	"container.HealthConfig{Test? []s; Interval? d; Timeout? d; StartPeriod? d; "
	"StartInterval? d; Retries? i}\n"
	"struct{}\n" /* the values of sets (map[string]struct{}) */
	"container.NetworkSettings{^container.NetworkSettingsBase; "
	"^container.DefaultNetworkSettings; Networks map[*network.EndpointSettings]}\n"
	"container.NetworkSettingsBase{Bridge s; SandboxID s; SandboxKey s; Ports "
	"map[[]nat.PortBinding]; HairpinMode b; LinkLocalIPv6Address s; LinkLocalIPv6PrefixLen "
	"i; SecondaryIPAddresses []a; SecondaryIPv6Addresses []a}\n"
	"container.DefaultNetworkSettings{EndpointID s; Gateway s; GlobalIPv6Address s; "
	"GlobalIPv6PrefixLen i; IPAddress s; IPPrefixLen i; IPv6Gateway s; MacAddress s}\n"
	"network.EndpointSettings{IPAMConfig *network.EndpointIPAMConfig; Links []s; Aliases "
	"[]s; MacAddress s; DriverOpts map[s]; GwPriority i; NetworkID s; EndpointID s; Gateway "
	"s; IPAddress s; IPPrefixLen i; IPv6Gateway s; GlobalIPv6Address s; GlobalIPv6PrefixLen "
	"i; DNSNames []s}\n"
	"network.EndpointIPAMConfig{IPv4Address? s; IPv6Address? s; LinkLocalIPs? []s}\n"
	/* images */
	"image.InspectResponse{ID:Id s; RepoTags []s; RepoDigests []s; Parent s; Comment s; "
	"Created s; Container? s; ContainerConfig? *container.Config; DockerVersion s; Author "
	"s; Config *v1.DockerOCIImageConfig; Architecture s; Variant? s; Os s; OsVersion? s; "
	"Size i; VirtualSize? i; GraphDriver storage.DriverData; RootFS image.RootFS; Metadata "
	"image.Metadata; Descriptor? *a; Manifests? []a}\n"
	"v1.DockerOCIImageConfig{^v1.ImageConfig; ^v1.DockerOCIImageConfigExt}\n"
	"v1.ImageConfig{User? s; ExposedPorts? map[struct]; Env? []s; Entrypoint? []s; Cmd? "
	"[]s; Volumes? map[struct]; WorkingDir? s; Labels? map[s]; StopSignal? s; ArgsEscaped? "
	"b}\n"
	"v1.DockerOCIImageConfigExt{Healthcheck? *container.HealthConfig; OnBuild? []s; Shell? "
	"[]s}\n"
	"image.RootFS{Type s; Layers []s}\n"
	"image.Metadata{LastTagTime t}\n"
	/* networks */
	"network.Inspect{Name s; ID:Id s; Created t; Scope s; Driver s; EnableIPv4 b; "
	"EnableIPv6 b; IPAM network.IPAM; Internal b; Attachable b; Ingress b; ConfigFrom "
	"network.ConfigReference; ConfigOnly b; Containers map[network.EndpointResource]; "
	"Options map[s]; Labels map[s]; Peers? []a; Services? map[a]}\n"
	"network.IPAM{Driver s; Options map[s]; Config []network.IPAMConfig}\n"
	"network.IPAMConfig{Subnet s; IPRange? s; Gateway s; AuxAddress:AuxiliaryAddresses? "
	"map[s]}\n"
	"network.ConfigReference{Network s}\n"
	"network.EndpointResource{Name s; EndpointID s; MacAddress s; IPv4Address s; "
	"IPv6Address s}\n"
	/* volumes */
	"volume.Volume{ClusterVolume? *a; CreatedAt s; Driver s; Labels map[s]; Mountpoint s; "
	"Name s; Options map[s]; Scope s; Status? map[a]; UsageData? *a}\n";

/* The parsed types: structs by name, and the types made for []T, *T, ... */
typedef struct named {
	const char *name;
	size_t len;
	berth_go_type type;
} named;

static named *structs;
static size_t nstructs;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static berth_go_type *struct_named(const char *name, size_t len)
{
	for (size_t i = 0; i < nstructs; i++)
		if (structs[i].len == len && memcmp(structs[i].name, name, len) == 0)
			return &structs[i].type;
	return NULL;
}

static berth_go_type *new_type(char kind, const berth_go_type *elem)
{
	berth_go_type *t = berth_xcalloc(1, sizeof(*t));
	*t = (berth_go_type){.kind = kind, .elem = elem};
	return t;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_';
}

/* One type at *p (see the grammar above); moves *p past it. */
static const berth_go_type *parse_type(const char **p)
{
	static const berth_go_type scalars[] = {{'s'}, {'i'}, {'f'}, {'b'}, {'t'}, {'d'}, {'a'}};
	const char *s = *p;
	if (strncmp(s, "[]", 2) == 0) {
		*p += 2;
		return new_type('L', parse_type(p));
	}
	if (*s == '*') {
		*p += 1;
		return new_type('P', parse_type(p));
	}
	if (strncmp(s, "map[", 4) == 0) {
		*p += 4;
		const berth_go_type *elem = parse_type(p);
		*p += 1; /* ']' */
		return new_type('M', elem);
	}
	size_t len = 0;
	while (name_char(s[len]))
		len++;
	*p += len;
	for (size_t i = 0; len == 1 && i < BERTH_ARRAY_SIZE(scalars); i++)
		if (*s == scalars[i].kind)
			return &scalars[i];
	const berth_go_type *t = struct_named(s, len);
	return t ? t : &scalars[6]; /* a name not described: interface{} */
}

/* The fields of one line, after its '{'. */
static void parse_fields(berth_go_type *st, const char *p)
{
	berth_go_field *fields = NULL;
	size_t n = 0;
	while (*p && *p != '}' && *p != '\n') {
		berth_go_field f = {0};
		if (*p == '^') {
			/* Go names an embedded field after its type: "Resources" */
			p += 1 + (p[1] == '*');
			size_t len = strcspn(p, ";}\n");
			const char *dot = memrchr(p, '.', len);
			f.name = dot ? berth_xstrndup(dot + 1, len - (size_t)(dot + 1 - p))
				     : berth_xstrndup(p, len);
			p -= p[-1] == '*';
			f.embedded = true;
		} else {
			size_t nl = strcspn(p, ":? "), kl = 0;
			f.name = berth_xstrndup(p, nl);
			p += nl;
			if (*p == ':') {
				kl = strcspn(++p, "? ");
				f.key = berth_xstrndup(p, kl);
				p += kl;
			}
			f.omitempty = *p == '?';
			p += f.omitempty;
			f.key = f.key ? f.key : f.name;
			p++; /* ' ' */
		}
		f.type = parse_type(&p);
		fields = berth_xrealloc(fields, (n + 1) * sizeof(*fields));
		fields[n++] = f;
		p += strspn(p, "; ");
	}
	st->fields = fields;
	st->nfields = n;
}

/* units.Ulimit's String(): "nofile=100:200". */
static void ulimit_string(const json_t *v, berth_buf *out)
{
	berth_buf_printf(out, "%s=%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT,
			 berth_cli_str(v, "Name"), json_integer_value(json_object_get(v, "Soft")),
			 json_integer_value(json_object_get(v, "Hard")));
}

/* Two passes: the names first, so that a field may name a struct declared
 * below its own. */
static void parse_schema(void)
{
	for (const char *l = schema; *l; l = strchr(l, '\n') + 1)
		nstructs++;
	structs = berth_xcalloc(nstructs, sizeof(*structs));
	size_t i = 0;
	for (const char *l = schema; *l; l = strchr(l, '\n') + 1, i++) {
		size_t len = strcspn(l, "{");
		structs[i] = (named){l, len, {.kind = 'S'}};
		structs[i].type.name = berth_xstrndup(l, len);
	}
	i = 0;
	for (const char *l = schema; *l; l = strchr(l, '\n') + 1, i++)
		parse_fields(&structs[i].type, l + structs[i].len + 1);
	struct_named("units.Ulimit", strlen("units.Ulimit"))->stringer = ulimit_string;
}

const berth_go_type *berth_cli_inspect_go_type(const char *object_type)
{
	static const char *const roots[][2] = {{"container", "container.InspectResponse"},
					       {"image", "image.InspectResponse"},
					       {"network", "network.Inspect"},
					       {"volume", "volume.Volume"}};
	pthread_once(&once, parse_schema);
	for (size_t i = 0; object_type && i < BERTH_ARRAY_SIZE(roots); i++)
		if (strcmp(roots[i][0], object_type) == 0)
			return struct_named(roots[i][1], strlen(roots[i][1]));
	return NULL;
}
