/*
 * fuzz_scenario - libFuzzer target: any bytes as a scenario file.  Loading
 * must either succeed or fail with a message, never crash, leak or read
 * out of bounds (the library is built with ASan and UBSan here).
 */
#include <stddef.h>
#include <stdint.h>

#include <simvirt/simvirt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sv_scenario *s = NULL;

	if (sv_scenario_load_data(&s, (const char *)data, size, "fuzz", NULL) ==
	    SV_OK)
		sv_scenario_free(s);
	return 0;
}
