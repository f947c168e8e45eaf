/*
 * tools/simvirt/draw.c - the 2D walk grid and the per-phase bars, drawn
 * with cairo's SVG and image (PNG) surfaces.
 */
#include "draw.h"

#include <inttypes.h>
#include <string.h>

#include <cairo-svg.h>
#include <cairo.h>

const double walk_ref_rgb[3] = {0.16, 0.36, 0.70};
const double walk_cached_rgb[3] = {0.55, 0.80, 0.50};
static const double final_rgb[3] = {0.96, 0.62, 0.16};

/* ---- surfaces -------------------------------------------------------------- */

typedef struct canvas {
	cairo_surface_t *surface;
	cairo_t *cr;
	const char *path;
	bool png;
} canvas;

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && g_ascii_strcasecmp(s + n - k, suffix) == 0;
}

static bool canvas_open(canvas *c, const char *path, int w, int h, char **err)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	if (ends_with(path, ".svg")) {
		c->surface = cairo_svg_surface_create(path, w, h);
	} else if (ends_with(path, ".png")) {
		c->png = true;
		c->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	} else {
		*err = g_strdup_printf("%s: expected a file name ending in .svg or "
				       ".png", path);
		return false;
	}
	if (cairo_surface_status(c->surface) != CAIRO_STATUS_SUCCESS) {
		*err = g_strdup_printf("%s: %s", path,
				       cairo_status_to_string(
					       cairo_surface_status(c->surface)));
		cairo_surface_destroy(c->surface);
		return false;
	}
	c->cr = cairo_create(c->surface);
	cairo_set_source_rgb(c->cr, 1, 1, 1);
	cairo_paint(c->cr);
	cairo_select_font_face(c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       CAIRO_FONT_WEIGHT_NORMAL);
	return true;
}

static bool canvas_close(canvas *c, char **err)
{
	cairo_status_t st;

	cairo_destroy(c->cr);
	if (c->png)
		st = cairo_surface_write_to_png(c->surface, c->path);
	else {
		cairo_surface_finish(c->surface);
		st = cairo_surface_status(c->surface);
	}
	cairo_surface_destroy(c->surface);
	if (st != CAIRO_STATUS_SUCCESS) {
		*err = g_strdup_printf("%s: %s", c->path, cairo_status_to_string(st));
		return false;
	}
	return true;
}

static void text_at(cairo_t *cr, double x, double y, double size,
		    const char *text)
{
	cairo_set_font_size(cr, size);
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, text);
}

/* Text centred on x. */
static void text_centred(cairo_t *cr, double x, double y, double size,
			 const char *text)
{
	cairo_text_extents_t e;

	cairo_set_font_size(cr, size);
	cairo_text_extents(cr, text, &e);
	cairo_move_to(cr, x - e.width / 2 - e.x_bearing, y);
	cairo_show_text(cr, text);
}

static void swatch(cairo_t *cr, double x, double y, const double rgb[3],
		   const char *label)
{
	cairo_rectangle(cr, x, y, 14, 14);
	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	cairo_fill_preserve(cr);
	cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
	cairo_set_line_width(cr, 1);
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	text_at(cr, x + 20, y + 12, 12, label);
}

/* ---- the walk grid --------------------------------------------------------- */

void walk_grid_init(walk_grid *g, unsigned guest_levels, unsigned tdp_levels,
		    uint64_t gva)
{
	memset(g, 0, sizeof(*g));
	g->guest_levels = guest_levels < WALK_MAX ? guest_levels : WALK_MAX - 1;
	g->tdp_levels = tdp_levels < WALK_MAX ? tdp_levels : WALK_MAX - 1;
	g->gva = gva;
}

static void mark(walk_grid *g, unsigned row, unsigned col, walk_cell k)
{
	if (row > g->guest_levels || col > g->tdp_levels)
		return;
	g->cell[row][col] = (uint8_t)k;
	if (k == CELL_REF)
		g->order[row][col] = (uint8_t)++g->refs;
}

/* Marks the columns of nested levels [low, tdp_levels] of the current row. */
static void mark_nested_from(walk_grid *g, unsigned low, walk_cell k)
{
	unsigned l;

	for (l = g->tdp_levels; l >= low && l >= 1; l--)
		mark(g, g->row, g->tdp_levels - l, k);
}

void walk_grid_event(const sv_walk_event *ev, void *payload)
{
	walk_grid *g = payload;
	unsigned gl = g->guest_levels, r, c;

	switch (ev->kind) {
	case SV_WEV_TLB_HIT: /* the combined TLB held the whole translation */
		for (r = 0; r <= gl; r++)
			for (c = 0; c <= g->tdp_levels; c++)
				mark(g, r, c, CELL_CACHED);
		g->row = gl;
		break;
	case SV_WEV_PSC_HIT: /* guest levels >= ev->level come from the PSC */
		for (r = 0; r <= gl - ev->level && r < gl; r++)
			for (c = 0; c <= g->tdp_levels; c++)
				mark(g, r, c, CELL_CACHED);
		g->row = gl - ev->level + 1;
		break;
	case SV_WEV_GUEST_REF:
		r = gl - ev->level;
		mark(g, r, g->tdp_levels, CELL_REF);
		/* after a leaf the next nested walk is the final GPA's */
		g->row = ev->level == 1 || (ev->entry & SV_PTE_PS) ? gl : r + 1;
		break;
	case SV_WEV_NTLB_HIT:
		mark_nested_from(g, 1, CELL_CACHED);
		break;
	case SV_WEV_NPWC_HIT:
		mark_nested_from(g, ev->level, CELL_CACHED);
		break;
	case SV_WEV_NESTED_REF:
		mark(g, g->row, g->tdp_levels - ev->level, CELL_REF);
		break;
	case SV_WEV_FAULT:
		g->fault = true;
		break;
	}
}

void walk_grid_size(const walk_grid *g, int *w, int *h)
{
	*w = GRID_LEFT + (int)(g->tdp_levels + 1) * GRID_CELL + 40;
	*h = GRID_TOP + (int)(g->guest_levels + 1) * GRID_CELL + 60;
}

void walk_grid_cell_origin(int row, int col, int *x, int *y)
{
	*x = GRID_LEFT + col * GRID_CELL;
	*y = GRID_TOP + row * GRID_CELL;
}

bool walk_grid_draw(const walk_grid *g, const char *path, char **err)
{
	unsigned gl = g->guest_levels, tl = g->tdp_levels, r, c;
	char buf[96];
	canvas cv;
	cairo_t *cr;
	int w, h, x, y;

	walk_grid_size(g, &w, &h);
	if (!canvas_open(&cv, path, w, h, err))
		return false;
	cr = cv.cr;
	cairo_set_source_rgb(cr, 0, 0, 0);
	snprintf(buf, sizeof(buf), "2D walk of gva 0x%" PRIx64 ": %u memory "
		 "references%s", g->gva, g->refs, g->fault ? ", fault" : "");
	text_at(cr, 16, 28, 16, buf);
	for (c = 0; c <= tl; c++) {
		walk_grid_cell_origin(0, (int)c, &x, &y);
		if (c < tl)
			snprintf(buf, sizeof(buf), "nested L%u", tl - c);
		else
			snprintf(buf, sizeof(buf), "guest entry");
		text_centred(cr, x + GRID_CELL / 2.0, y - 10, 11, buf);
	}
	for (r = 0; r <= gl; r++) {
		walk_grid_cell_origin((int)r, 0, &x, &y);
		if (r < gl)
			snprintf(buf, sizeof(buf), "guest L%u table", gl - r);
		else
			snprintf(buf, sizeof(buf), "final GPA");
		cairo_set_source_rgb(cr, 0, 0, 0);
		text_at(cr, 16, y + GRID_CELL / 2.0 + 4, 12, buf);
		for (c = 0; c <= tl; c++) {
			bool final = r == gl && c == tl;
			const double *rgb = g->cell[r][c] == CELL_REF ? walk_ref_rgb
					    : g->cell[r][c] == CELL_CACHED ? walk_cached_rgb
					    : final && !g->fault ? final_rgb : NULL;

			walk_grid_cell_origin((int)r, (int)c, &x, &y);
			cairo_rectangle(cr, x + 2, y + 2, GRID_CELL - 4, GRID_CELL - 4);
			if (rgb)
				cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
			else
				cairo_set_source_rgb(cr, 1, 1, 1);
			cairo_fill_preserve(cr);
			cairo_set_source_rgb(cr, final ? 0.55 : 0.6, final ? 0.25 : 0.6,
					     final ? 0 : 0.6);
			cairo_set_line_width(cr, final ? 3 : 1);
			cairo_stroke(cr);
			if (g->order[r][c]) {
				cairo_set_source_rgb(cr, 1, 1, 1);
				snprintf(buf, sizeof(buf), "%u", g->order[r][c]);
				text_at(cr, x + 7, y + 19, 13, buf);
			} else if (final) {
				cairo_set_source_rgb(cr, 0, 0, 0);
				text_at(cr, x + 7, y + 19, 11, "data");
			}
		}
	}
	y = GRID_TOP + (int)(gl + 1) * GRID_CELL + 20;
	swatch(cr, 16, y, walk_ref_rgb, "memory reference (numbered in order)");
	swatch(cr, 16, y + 20, walk_cached_rgb, "TLB or walk-cache hit");
	swatch(cr, 290, y, final_rgb, "the data");
	return canvas_close(&cv, err);
}

/* ---- per-phase bars -------------------------------------------------------- */

const char *const plot_series[PLOT_PANELS][PLOT_SERIES] = {
	{"pages_4k", "pages_2m", "pages_1g"},
	{"pf_taken", "remote_tlb_flush_requests", "cycles"},
};
const double plot_rgb[PLOT_SERIES][3] = {
	{0.16, 0.36, 0.70}, {0.90, 0.45, 0.10}, {0.30, 0.65, 0.30}};
static const char *const panel_title[PLOT_PANELS] = {
	"SPTEs at the end of each phase",
	"during each phase",
};

void plot_size(size_t phases, int *w, int *h)
{
	*w = PLOT_LEFT + (int)phases * PLOT_GROUP + 40;
	if (*w < 660)
		*w = 660;
	*h = PLOT_TOP + PLOT_PANELS * PLOT_PANEL - 20;
}

int plot_baseline(int panel)
{
	return PLOT_TOP + panel * PLOT_PANEL + PLOT_HEIGHT;
}

int plot_bar_x(size_t phase, int series)
{
	return PLOT_LEFT + (int)phase * PLOT_GROUP + 8 + series * (PLOT_BAR + 4);
}

static gint64 member_int(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : 0;
}

typedef gint64 plot_row[PLOT_SERIES];

/* The values of one panel: [phase][series]. */
static void panel_values(JsonObject *top, JsonArray *phases, int panel,
			 plot_row *v)
{
	size_t n = json_array_get_length(phases), p;
	int s;

	for (s = 0; s < PLOT_SERIES; s++) {
		const char *name = plot_series[panel][s];
		/* A level at the end of phase p: the total less the changes
		 * of the phases after it. */
		gint64 level = member_int(json_object_get_object_member(top, "vm"), name);

		for (p = n; p-- > 0;) {
			JsonObject *ph = json_array_get_object_element(phases, (guint)p);
			gint64 change = member_int(json_object_get_object_member(ph, "vm"),
						   name);

			v[p][s] = panel == 0 ? level : change;
			level -= change;
		}
	}
}

static bool holds_object(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	return n && JSON_NODE_HOLDS_OBJECT(n);
}

/* The shape plot_draw reads: a "vm" object, and phases that are objects
 * with a string "name" and a "vm" object. */
static bool is_report(JsonObject *top, JsonArray *phases)
{
	guint i;

	if (!top || !phases || !json_array_get_length(phases) ||
	    !holds_object(top, "vm"))
		return false;
	for (i = 0; i < json_array_get_length(phases); i++) {
		JsonNode *e = json_array_get_element(phases, i);
		JsonObject *o = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
		JsonNode *name = o ? json_object_get_member(o, "name") : NULL;

		if (!o || !name || json_node_get_value_type(name) != G_TYPE_STRING ||
		    !holds_object(o, "vm"))
			return false;
	}
	return true;
}

bool plot_draw(JsonNode *report, const char *path, char **err)
{
	JsonObject *top = JSON_NODE_HOLDS_OBJECT(report) ? json_node_get_object(report)
							 : NULL;
	JsonNode *pn = top ? json_object_get_member(top, "phases") : NULL;
	JsonArray *phases = pn && JSON_NODE_HOLDS_ARRAY(pn) ? json_node_get_array(pn)
							     : NULL;
	size_t n, p;
	canvas cv;
	cairo_t *cr;
	int w, h, panel, s;
	char buf[96];

	if (!is_report(top, phases)) {
		*err = g_strdup("expected a simvirt report in JSON (phases and vm)");
		return false;
	}
	n = json_array_get_length(phases);
	plot_size(n, &w, &h);
	if (!canvas_open(&cv, path, w, h, err))
		return false;
	cr = cv.cr;
	cairo_set_source_rgb(cr, 0, 0, 0);
	snprintf(buf, sizeof(buf), "scenario %s",
		 json_object_get_string_member_with_default(top, "scenario", "?"));
	text_at(cr, 16, 26, 16, buf);
	for (panel = 0; panel < PLOT_PANELS; panel++) {
		plot_row *v = g_new0(plot_row, n);
		gint64 max[PLOT_SERIES] = {0};
		int base = plot_baseline(panel);

		panel_values(top, phases, panel, v);
		for (p = 0; p < n; p++)
			for (s = 0; s < PLOT_SERIES; s++)
				if (v[p][s] > max[s])
					max[s] = v[p][s];
		cairo_set_source_rgb(cr, 0, 0, 0);
		text_at(cr, 16, base - PLOT_HEIGHT - 14, 13, panel_title[panel]);
		for (s = 0; s < PLOT_SERIES; s++)
			swatch(cr, 16 + s * 210, base - PLOT_HEIGHT, plot_rgb[s],
			       plot_series[panel][s]);
		for (p = 0; p < n; p++) {
			JsonObject *ph = json_array_get_object_element(phases, (guint)p);

			for (s = 0; s < PLOT_SERIES; s++) {
				double bh;
				int x = plot_bar_x(p, s);

				if (v[p][s] <= 0)
					continue;
				/* each series scaled to its own maximum */
				bh = (double)v[p][s] / (double)max[s] * (PLOT_HEIGHT - 80);
				if (bh < PLOT_MIN_BAR)
					bh = PLOT_MIN_BAR;
				cairo_rectangle(cr, x, base - bh, PLOT_BAR, bh);
				cairo_set_source_rgb(cr, plot_rgb[s][0], plot_rgb[s][1],
						     plot_rgb[s][2]);
				cairo_fill(cr);
				cairo_save(cr);
				cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
				cairo_move_to(cr, x + PLOT_BAR - 3, base - bh - 4);
				cairo_rotate(cr, -G_PI / 2);
				cairo_set_font_size(cr, 9);
				snprintf(buf, sizeof(buf), "%" G_GINT64_FORMAT, v[p][s]);
				cairo_show_text(cr, buf);
				cairo_restore(cr);
			}
			cairo_set_source_rgb(cr, 0, 0, 0);
			text_centred(cr, plot_bar_x(p, 0) + (3 * PLOT_BAR + 8) / 2.0,
				     base + 16, 10,
				     json_object_get_string_member(ph, "name"));
		}
		cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
		cairo_set_line_width(cr, 1);
		cairo_move_to(cr, PLOT_LEFT - 4, base + 0.5);
		cairo_line_to(cr, PLOT_LEFT + (double)n * PLOT_GROUP, base + 0.5);
		cairo_stroke(cr);
		g_free(v);
	}
	cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
	text_at(cr, 16, h - 8, 10, "each series is scaled to its own maximum");
	return canvas_close(&cv, err);
}
