/*
 * tools/simvirt/draw.h - the command's pictures: the 2D walk grid (walk
 * --svg) and per-phase bars of reports (plot), as PNG through cairo or as
 * SVG written directly (its text stays text).
 *
 * The geometry is exposed so that tests can find each cell and bar in a
 * rendered PNG.
 */
#ifndef SIMVIRT_DRAW_H
#define SIMVIRT_DRAW_H

#include <stdbool.h>
#include <stdint.h>

#include "simvirt/simvirt.h"

#include "reports.h"

/* ---- the 2D walk grid ---------------------------------------------------- */

typedef enum walk_cell {
	CELL_NONE,   /* not needed by this walk */
	CELL_REF,    /* read from memory */
	CELL_CACHED, /* supplied by a TLB or a walk cache */
} walk_cell;

#define WALK_MAX 6   /* up to 5 levels, plus the guest-entry column/final row */
#define WALK_TRIES 4 /* attempts drawn side by side */

/* One attempt of the access: an EPT/NPT violation ends it, the
 * hypervisor maps the page and the access starts again.  Rows: the guest
 * levels from the top, then the final GPA.  Columns: the nested levels
 * from the top, then the guest entry itself (for the final row: the
 * data). */
typedef struct walk_try {
	uint8_t cell[WALK_MAX][WALK_MAX];
	uint8_t order[WALK_MAX][WALK_MAX]; /* 1.. for CELL_REF, in walk order */
	unsigned row;                      /* the row being filled */
	bool fault;                        /* it ended in a fault */
	bool fault_nested;                 /* ... at an EPT/NPT entry */
	unsigned fault_level;
} walk_try;

typedef struct walk_grid {
	unsigned guest_levels, tdp_levels;
	walk_try tries[WALK_TRIES];
	unsigned ntries;   /* attempts drawn, 1 or more */
	unsigned more;     /* attempts past WALK_TRIES (counted, not drawn) */
	unsigned refs;     /* memory references of every attempt */
	bool nested_last;  /* the last event was of the nested walk */
	bool fault;        /* the access ended in a fault */
	uint64_t gva;
	char end[160];     /* how the access ended, in words */
} walk_grid;

void walk_grid_init(walk_grid *g, unsigned guest_levels, unsigned tdp_levels,
		    uint64_t gva);
/* A walk observer (sv_vcpu_set_walk_observer) that fills the grid. */
void walk_grid_event(const sv_walk_event *ev, void *payload);
/* The access is over: how it ended (its result). */
void walk_grid_end(walk_grid *g, const sv_xlate *x);

#define GRID_CELL 64 /* a cell is GRID_CELL x GRID_CELL */
#define GRID_LEFT 150
#define GRID_TOP 116
#define GRID_TRY_GAP 48 /* between two attempts' grids */
/* The picture's size and where cell (row, col) of attempt t starts. */
void walk_grid_size(const walk_grid *g, int *w, int *h);
void walk_grid_cell_origin(const walk_grid *g, unsigned t, int row, int col,
			   int *x, int *y);

/* Colours (RGB, 0..1) of marked cells, for the picture and its tests. */
extern const double walk_ref_rgb[3], walk_cached_rgb[3];

/* Draws to path (.svg, its text as SVG text, or .png).  On failure *err
 * says why. */
bool walk_grid_draw(const walk_grid *g, const char *path, char **err);

/* ---- per-phase bars ------------------------------------------------------ */

/*
 * One panel per counter, with a y axis of values (linear, or log 10); in
 * each panel a group of bars per phase, one bar per report, side by side.
 * A level (pages_2m, ...: sv_vm_stat_is_level) is drawn as its value at
 * the end of each phase, any other counter as its change during it.
 */
typedef struct plot_input {
	rtab *const *reps;     /* one or more reports */
	size_t nreps;
	char **counters;      /* names or globs (NULL: PLOT_DEFAULT) */
	const char *scope;    /* vm (default), host, audit, vcpuN */
	bool log;
} plot_input;

#define PLOT_DEFAULT "pages_4k,pages_2m,pages_1g,pf_taken,remote_tlb_flush_requests,cycles"
#define PLOT_MAX_PANELS 12
#define PLOT_REPS 6          /* reports side by side, at most */
extern const double plot_rgb[PLOT_REPS][3];

#define PLOT_BAR 14          /* bar width */
#define PLOT_GAP 16          /* between two phases' groups of bars */
#define PLOT_AXIS 64         /* left of a panel: the axis and its values */
#define PLOT_HEIGHT 150      /* of a panel's bar area */
#define PLOT_PANEL_H 260     /* from one panel row's top to the next */
#define PLOT_MIN_BAR 2       /* a non-zero value is never thinner */

/* Where everything goes, from the input (plot_layout). */
typedef struct plot_geom {
	int width, height;
	int columns, panels;
	int panel_w;              /* one panel's width */
	int group_w;              /* one phase's bars and the gap after */
	int top;                  /* below the title lines */
	size_t phases;            /* the most phases of a report, with total */
	char *counter[PLOT_MAX_PANELS];
	bool level[PLOT_MAX_PANELS];
} plot_geom;

/*
 * Chooses the panels (the counters the globs match in the first report,
 * in its order) and the picture's size; false with *err when a glob
 * matches nothing, more than PLOT_MAX_PANELS match, or the reports are
 * more than PLOT_REPS.
 */
bool plot_layout(const plot_input *in, plot_geom *g, char **err);
void plot_geom_clear(plot_geom *g);
/* Bar (phase p from 1, report k) of panel i: its left x and the y of the
 * panel's baseline. */
void plot_bar_at(const plot_geom *g, int i, size_t p, size_t k, int *x,
		 int *base);

/* Draws to path (.svg, its text as SVG text, or .png). */
bool plot_draw(const plot_input *in, const char *path, char **err);

#endif
