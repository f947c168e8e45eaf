/*
 * lib/errors.c - error texts, the detail of the last error, fault names.
 */
#include <stdarg.h>
#include <stdio.h>

#include "vm.h"

/* This thread's last detail (a g_malloc'd string, freed at thread exit);
 * unset or "" when there is none. */
static GPrivate last_detail = G_PRIVATE_INIT(g_free);
SV_DETAIL_TLS bool sv_err__detail_set;

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
	const char *d = g_private_get(&last_detail);

	return d ? d : "";
}

void sv_err__clear_slow(void)
{
	((char *)g_private_get(&last_detail))[0] = '\0';
	sv_err__detail_set = false;
}

int sv_err__set(sv_vm *vm, int code, const char *fmt, ...)
{
	va_list ap;
	char *d;

	/* Made whole before the old one goes: fmt's arguments may be it. */
	va_start(ap, fmt);
	d = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (vm) {
		g_free(vm->errbuf);
		vm->errbuf = g_strdup(d);
	}
	g_private_replace(&last_detail, d);
	sv_err__detail_set = true;
	return code;
}

const char *sv_fault_kind_name(sv_fault_kind k)
{
	static const char *const names[] = {
		[SV_FAULT_NONE] = "none",
		[SV_FAULT_PF] = "#PF",
		[SV_FAULT_GP] = "#GP",
		[SV_FAULT_EPT_VIOLATION] = "EPT violation",
		[SV_FAULT_EPT_MISCONFIG] = "EPT misconfiguration",
		[SV_FAULT_NPF] = "#NPF",
		[SV_FAULT_MCE] = "machine check",
		[SV_FAULT_TLB_CONFLICT] = "TLB conflict abort",
		[SV_FAULT_MMIO] = "MMIO exit",
		[SV_FAULT_EFAULT] = "EFAULT",
		[SV_FAULT_RETRY] = "retry",
		[SV_FAULT_SHADOW_PF] = "shadow #PF",
	};

	return (unsigned)k < G_N_ELEMENTS(names) && names[k] ? names[k] : "?";
}

const char *sv_fault_stage_name(sv_fault_stage s)
{
	static const char *const names[] = {
		[SV_STAGE_GUEST] = "guest tables",
		[SV_STAGE_NESTED_TABLE] = "nested translation of a guest table",
		[SV_STAGE_NESTED_FINAL] = "nested translation of the final GPA",
		[SV_STAGE_TLB] = "TLB lookup",
		[SV_STAGE_SHADOW] = "shadow tables",
	};

	return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "?";
}
