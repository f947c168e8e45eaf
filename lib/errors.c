/*
 * lib/errors.c - error texts, the detail of the last error, fault names.
 */
#include <stdarg.h>
#include <stdio.h>

#include "vm.h"

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

int sv_err__set(sv_vm *vm, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_detail, sizeof(last_detail), fmt, ap);
	va_end(ap);
	if (vm)
		g_strlcpy(vm->errbuf, last_detail, sizeof(vm->errbuf));
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
	};

	return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "?";
}
