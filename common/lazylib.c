/* lazylib.c - functions of a library opened on first use (common.h). */
#include <dlfcn.h>

#include "common.h"

int berth_lazylib_load(const char *soname, const char *const *names, void **slots, size_t n,
		       berth_error **err)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return berth_error_set(err, 500, "cannot load %s: %s", soname, dlerror());
	for (size_t i = 0; i < n; i++) {
		if ((slots[i] = dlsym(h, names[i])) == NULL)
			return berth_error_set(err, 500, "%s has no %s", soname, names[i]);
	}
	return 0;
}
