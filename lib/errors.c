/*
 * lib/errors.c - error texts and the detail of the last error.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static _Thread_local char last_detail[256];

int sv_version_number(void)
{
	return SV_VERSION_NUMBER;
}

const char *sv_version_string(void)
{
	return SV_VERSION_STRING;
}

const char *sv_strerror(int err)
{
	switch (err) {
#define SV__ERR_CASE(name, value, text) \
	case name:                       \
		return text " (" #name ")";
		SV_ERR_LIST(SV__ERR_CASE)
#undef SV__ERR_CASE
	}
	return "unknown error";
}

const char *sv_error_detail(void)
{
	return last_detail;
}

int sv__err(sv_vm *vm, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_detail, sizeof(last_detail), fmt, ap);
	va_end(ap);
	if (vm)
		g_strlcpy(vm->errbuf, last_detail, sizeof(vm->errbuf));
	return code;
}
