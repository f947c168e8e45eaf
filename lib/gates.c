/*
 * lib/gates.c - the version gates of lib/gates.h, for the command and
 * the docs.
 */
#include "gates.h"

const char *sv_kernel_gate(size_t i, unsigned *from, unsigned *until,
			   const char **source)
{
	static const struct {
		unsigned from, until;
		const char *what, *source;
	} gates[] = {
#define SV__GATE_ROW(id, f, u, w, s) {(f), (u), (w), (s)},
		SV_GATE_LIST(SV__GATE_ROW)
#undef SV__GATE_ROW
	};

	if (i >= G_N_ELEMENTS(gates))
		return NULL;
	if (from)
		*from = gates[i].from;
	if (until)
		*until = gates[i].until;
	if (source)
		*source = gates[i].source;
	return gates[i].what;
}
