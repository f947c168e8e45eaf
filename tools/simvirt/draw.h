/*
 * tools/simvirt/draw.h - the command's pictures, drawn with cairo: the 2D
 * walk grid (walk --svg) and per-phase bars of a report (plot).
 *
 * The geometry is exposed so that tests can find each cell and bar in a
 * rendered PNG.
 */
#ifndef SIMVIRT_DRAW_H
#define SIMVIRT_DRAW_H

#include <stdbool.h>
#include <stdint.h>

#include <json-glib/json-glib.h>

#include "simvirt/simvirt.h"

/* ---- the 2D walk grid ---------------------------------------------------- */

typedef enum walk_cell {
	CELL_NONE,   /* not needed by this walk */
	CELL_REF,    /* read from memory */
	CELL_CACHED, /* supplied by a TLB or a walk cache */
} walk_cell;

#define WALK_MAX 6 /* up to 5 levels, plus the guest-entry column/final row */

/* Rows: the guest levels from the top, then the final GPA.  Columns: the
 * nested levels from the top, then the guest entry itself (for the final
 * row: the data). */
typedef struct walk_grid {
	unsigned guest_levels, tdp_levels;
	uint8_t cell[WALK_MAX][WALK_MAX];
	uint8_t order[WALK_MAX][WALK_MAX]; /* 1.. for CELL_REF, in walk order */
	unsigned row;                      /* the row being filled */
	unsigned refs;
	bool fault;
	uint64_t gva;
} walk_grid;

void walk_grid_init(walk_grid *g, unsigned guest_levels, unsigned tdp_levels,
		    uint64_t gva);
/* A walk observer (sv_vcpu_set_walk_observer) that fills the grid. */
void walk_grid_event(const sv_walk_event *ev, void *payload);

#define GRID_CELL 64 /* a cell is GRID_CELL x GRID_CELL */
#define GRID_LEFT 150
#define GRID_TOP 90
/* The picture's size and where cell (row, col) starts. */
void walk_grid_size(const walk_grid *g, int *w, int *h);
void walk_grid_cell_origin(int row, int col, int *x, int *y);

/* Colours (RGB, 0..1) of marked cells, for the picture and its tests. */
extern const double walk_ref_rgb[3], walk_cached_rgb[3];

/* Draws to path (.svg or .png).  On failure *err says why. */
bool walk_grid_draw(const walk_grid *g, const char *path, char **err);

/* ---- per-phase bars ------------------------------------------------------ */

/* The two panels, three series each: levels at the end of each phase
 * (SPTEs by size) and changes during it (faults, flushes, cycles). */
#define PLOT_SERIES 3
#define PLOT_PANELS 2
extern const char *const plot_series[PLOT_PANELS][PLOT_SERIES];
extern const double plot_rgb[PLOT_SERIES][3];

#define PLOT_BAR 14    /* bar width */
#define PLOT_GROUP 70  /* width of one phase's group of bars */
#define PLOT_LEFT 70
#define PLOT_HEIGHT 200 /* of a panel's bar area */
#define PLOT_PANEL 300  /* from one panel's top to the next */
#define PLOT_TOP 70
#define PLOT_MIN_BAR 2  /* a non-zero value is never thinner than this */

/* The picture's size for n phases; the baseline y of a panel, and the x
 * range of bar (phase, series). */
void plot_size(size_t phases, int *w, int *h);
int plot_baseline(int panel);
int plot_bar_x(size_t phase, int series);

/* Draws the report (a parsed `--format json` document). */
bool plot_draw(JsonNode *report, const char *path, char **err);

#endif
