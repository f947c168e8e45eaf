/*
 * tools/simvirt/draw.c - the 2D walk grid and the per-phase bars, drawn
 * to PNG through cairo's image surface, or written as SVG.
 */
#include "draw.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <cairo.h>

const double walk_ref_rgb[3] = {0.16, 0.36, 0.70};
const double walk_cached_rgb[3] = {0.55, 0.80, 0.50};
static const double final_rgb[3] = {0.96, 0.62, 0.16};

/* ---- PNG surfaces ---------------------------------------------------------- */

typedef struct canvas {
	cairo_surface_t *surface;
	cairo_t *cr;
	const char *path;
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
	c->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
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
	st = cairo_surface_write_to_png(c->surface, c->path);
	cairo_surface_destroy(c->surface);
	if (st != CAIRO_STATUS_SUCCESS) {
		*err = g_strdup_printf("%s: %s", c->path, cairo_status_to_string(st));
		return false;
	}
	return true;
}

/* ---- pens ------------------------------------------------------------------ */

/*
 * Pictures are drawn through a pen: cairo for PNG, SVG elements written
 * directly for SVG, so that every label stays text a reader can select,
 * search and restyle (cairo's SVG surface writes glyph outlines).
 */
typedef struct pen {
	cairo_t *cr;  /* PNG */
	GString *svg; /* SVG */
} pen;

static const double black[3] = {0, 0, 0};
static const double white[3] = {1, 1, 1};
static const double grey[3] = {0.45, 0.45, 0.45};
static const double light[3] = {0.88, 0.88, 0.88};

static void svg_rgb(GString *s, const double rgb[3])
{
	g_string_append_printf(s, "#%02x%02x%02x", (int)(rgb[0] * 255 + 0.5),
			       (int)(rgb[1] * 255 + 0.5), (int)(rgb[2] * 255 + 0.5));
}

/* A number for SVG, whatever the locale. */
static const char *num(char *buf, double v)
{
	return g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.1f", v);
}

static void pen_rect(pen *p, double x, double y, double w, double h,
		     const double rgb[3])
{
	char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE],
		c[G_ASCII_DTOSTR_BUF_SIZE], d[G_ASCII_DTOSTR_BUF_SIZE];

	if (p->cr) {
		cairo_rectangle(p->cr, x, y, w, h);
		cairo_set_source_rgb(p->cr, rgb[0], rgb[1], rgb[2]);
		cairo_fill(p->cr);
		return;
	}
	g_string_append_printf(p->svg, "<rect x=\"%s\" y=\"%s\" width=\"%s\" "
				       "height=\"%s\" fill=\"",
			       num(a, x), num(b, y), num(c, w), num(d, h));
	svg_rgb(p->svg, rgb);
	g_string_append(p->svg, "\"/>\n");
}

static void pen_line(pen *p, double x1, double y1, double x2, double y2,
		     const double rgb[3])
{
	char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE],
		c[G_ASCII_DTOSTR_BUF_SIZE], d[G_ASCII_DTOSTR_BUF_SIZE];

	if (p->cr) {
		cairo_set_source_rgb(p->cr, rgb[0], rgb[1], rgb[2]);
		cairo_set_line_width(p->cr, 1);
		cairo_move_to(p->cr, x1, y1);
		cairo_line_to(p->cr, x2, y2);
		cairo_stroke(p->cr);
		return;
	}
	g_string_append_printf(p->svg, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" "
				       "y2=\"%s\" stroke-width=\"1\" stroke=\"",
			       num(a, x1), num(b, y1), num(c, x2), num(d, y2));
	svg_rgb(p->svg, rgb);
	g_string_append(p->svg, "\"/>\n");
}

/* Text at (x, y) on its baseline: anchor -1 starts there, 0 is centred,
 * 1 ends there; turned by deg degrees (negative: anticlockwise). */
static void pen_text(pen *p, double x, double y, double size, int anchor,
		     double deg, const double rgb[3], const char *text)
{
	static const char *const anchors[] = {"start", "middle", "end"};
	char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE],
		c[G_ASCII_DTOSTR_BUF_SIZE], d[G_ASCII_DTOSTR_BUF_SIZE];
	g_autofree char *esc = NULL;

	if (p->cr) {
		cairo_text_extents_t e;

		cairo_save(p->cr);
		cairo_set_source_rgb(p->cr, rgb[0], rgb[1], rgb[2]);
		cairo_set_font_size(p->cr, size);
		cairo_text_extents(p->cr, text, &e);
		cairo_translate(p->cr, x, y);
		cairo_rotate(p->cr, deg * G_PI / 180);
		cairo_move_to(p->cr, -e.x_advance * (anchor + 1) / 2, 0);
		cairo_show_text(p->cr, text);
		cairo_restore(p->cr);
		return;
	}
	esc = g_markup_escape_text(text, -1);
	g_string_append_printf(p->svg, "<text x=\"%s\" y=\"%s\" font-size=\"%s\" "
				       "text-anchor=\"%s\" fill=\"",
			       num(a, x), num(b, y), num(c, size), anchors[anchor + 1]);
	svg_rgb(p->svg, rgb);
	g_string_append(p->svg, "\"");
	if (deg != 0)
		g_string_append_printf(p->svg, " transform=\"rotate(%s %s %s)\"",
				       num(d, deg), num(a, x), num(b, y));
	g_string_append_printf(p->svg, ">%s</text>\n", esc);
}

/* A rectangle outlined in rgb, filled with fill unless NULL. */
static void pen_box(pen *p, double x, double y, double w, double h,
		    const double *fill, const double rgb[3], double width)
{
	char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE],
		c[G_ASCII_DTOSTR_BUF_SIZE], d[G_ASCII_DTOSTR_BUF_SIZE],
		e[G_ASCII_DTOSTR_BUF_SIZE];

	if (p->cr) {
		cairo_rectangle(p->cr, x, y, w, h);
		if (fill) {
			cairo_set_source_rgb(p->cr, fill[0], fill[1], fill[2]);
			cairo_fill_preserve(p->cr);
		}
		cairo_set_source_rgb(p->cr, rgb[0], rgb[1], rgb[2]);
		cairo_set_line_width(p->cr, width);
		cairo_stroke(p->cr);
		return;
	}
	g_string_append_printf(p->svg, "<rect x=\"%s\" y=\"%s\" width=\"%s\" "
				       "height=\"%s\" stroke-width=\"%s\" fill=\"",
			       num(a, x), num(b, y), num(c, w), num(d, h),
			       num(e, width));
	if (fill)
		svg_rgb(p->svg, fill);
	else
		g_string_append(p->svg, "none");
	g_string_append(p->svg, "\" stroke=\"");
	svg_rgb(p->svg, rgb);
	g_string_append(p->svg, "\"/>\n");
}

static void swatch(pen *p, double x, double y, const double rgb[3],
		   const char *label)
{
	pen_box(p, x, y, 14, 14, rgb, grey, 1);
	pen_text(p, x + 20, y + 12, 12, -1, 0, black, label);
}

typedef void (*draw_fn)(pen *p, const void *what);

/* Draws what with fn into path: .svg (written directly) or .png (cairo),
 * w x h, on white.  On failure *err says why. */
static bool draw_file(const char *path, int w, int h, draw_fn fn,
		      const void *what, char **err)
{
	if (ends_with(path, ".svg")) {
		pen pn = {NULL, g_string_new("")};
		g_autoptr(GError) gerr = NULL;
		bool ok = true;

		g_string_append_printf(pn.svg,
				       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				       "<svg xmlns=\"http://www.w3.org/2000/svg\" "
				       "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
				       "font-family=\"DejaVu Sans, sans-serif\">\n",
				       w, h, w, h);
		pen_rect(&pn, 0, 0, w, h, white);
		fn(&pn, what);
		g_string_append(pn.svg, "</svg>\n");
		if (!g_file_set_contents(path, pn.svg->str, (gssize)pn.svg->len,
					 &gerr)) {
			*err = g_strdup(gerr->message);
			ok = false;
		}
		g_string_free(pn.svg, TRUE);
		return ok;
	}
	if (ends_with(path, ".png")) {
		canvas cv;
		pen pn;

		if (!canvas_open(&cv, path, w, h, err))
			return false;
		pn.cr = cv.cr;
		pn.svg = NULL;
		fn(&pn, what);
		return canvas_close(&cv, err);
	}
	*err = g_strdup_printf("%s: expected a file name ending in .svg or .png",
			       path);
	return false;
}

/* ---- the walk grid --------------------------------------------------------- */

void walk_grid_init(walk_grid *g, unsigned guest_levels, unsigned tdp_levels,
		    uint64_t gva)
{
	memset(g, 0, sizeof(*g));
	g->guest_levels = guest_levels < WALK_MAX ? guest_levels : WALK_MAX - 1;
	g->tdp_levels = tdp_levels < WALK_MAX ? tdp_levels : WALK_MAX - 1;
	g->gva = gva;
	g->ntries = 1;
}

static void mark(walk_grid *g, walk_try *t, unsigned row, unsigned col,
		 walk_cell k)
{
	if (row > g->guest_levels || col > g->tdp_levels)
		return;
	t->cell[row][col] = (uint8_t)k;
	if (k == CELL_REF)
		t->order[row][col] = (uint8_t)MIN(g->refs, 255);
}

/* Marks the columns of nested levels [low, tdp_levels] of the current row. */
static void mark_nested_from(walk_grid *g, walk_try *t, unsigned low,
			     walk_cell k)
{
	unsigned l;

	for (l = g->tdp_levels; l >= low && l >= 1; l--)
		mark(g, t, t->row, g->tdp_levels - l, k);
}

void walk_grid_event(const sv_walk_event *ev, void *payload)
{
	walk_grid *g = payload;
	unsigned gl = g->guest_levels, r, c;
	walk_try *t = &g->tries[g->ntries - 1];

	if (ev->kind == SV_WEV_GUEST_REF || ev->kind == SV_WEV_NESTED_REF)
		g->refs++;
	/* after a fault that was not the end, the access starts again */
	if (t->fault && ev->kind != SV_WEV_FAULT) {
		if (g->ntries == WALK_TRIES) {
			g->more++;
			return;
		}
		t = &g->tries[g->ntries++];
	}
	if (g->more)
		return;
	switch (ev->kind) {
	case SV_WEV_TLB_HIT: /* the combined TLB held the whole translation */
		for (r = 0; r <= gl; r++)
			for (c = 0; c <= g->tdp_levels; c++)
				mark(g, t, r, c, CELL_CACHED);
		t->row = gl;
		break;
	case SV_WEV_PSC_HIT: /* guest levels >= ev->level come from the PSC */
		for (r = 0; r <= gl - ev->level && r < gl; r++)
			for (c = 0; c <= g->tdp_levels; c++)
				mark(g, t, r, c, CELL_CACHED);
		t->row = gl - ev->level + 1;
		break;
	case SV_WEV_GUEST_REF:
		r = gl - ev->level;
		mark(g, t, r, g->tdp_levels, CELL_REF);
		/* after a leaf the next nested walk is the final GPA's */
		t->row = ev->level == 1 || (ev->entry & SV_PTE_PS) ? gl : r + 1;
		break;
	case SV_WEV_NTLB_HIT:
		mark_nested_from(g, t, 1, CELL_CACHED);
		break;
	case SV_WEV_NPWC_HIT:
		mark_nested_from(g, t, ev->level, CELL_CACHED);
		break;
	case SV_WEV_NESTED_REF:
		mark(g, t, t->row, g->tdp_levels - ev->level, CELL_REF);
		break;
	case SV_WEV_FAULT:
		t->fault = true;
		t->fault_nested = g->nested_last;
		t->fault_level = ev->level;
		break;
	case SV_WEV_SHADOW_REF: /* no grid: `simvirt walk` refuses --svg */
		break;
	}
	g->nested_last = ev->kind >= SV_WEV_NTLB_HIT &&
			 ev->kind <= SV_WEV_NESTED_REF;
}

void walk_grid_end(walk_grid *g, const sv_xlate *x)
{
	g->fault = x->fault.kind != SV_FAULT_NONE;
	if (g->fault)
		snprintf(g->end, sizeof(g->end), "%s at the %s, error code 0x%" PRIx64,
			 sv_fault_kind_name(x->fault.kind),
			 sv_fault_stage_name(x->fault.stage), x->fault.error_code);
	else
		snprintf(g->end, sizeof(g->end), "translated to gpa 0x%" PRIx64
			 ", hpa 0x%" PRIx64 " (a %" PRIu64 "K TLB entry)",
			 x->gpa, x->hpa, x->page_size >> 10);
}

static int try_width(const walk_grid *g)
{
	return (int)(g->tdp_levels + 1) * GRID_CELL + GRID_TRY_GAP;
}

void walk_grid_size(const walk_grid *g, int *w, int *h)
{
	*w = GRID_LEFT + (int)g->ntries * try_width(g) - GRID_TRY_GAP + 40;
	*h = GRID_TOP + (int)(g->guest_levels + 1) * GRID_CELL + 60;
}

void walk_grid_cell_origin(const walk_grid *g, unsigned t, int row, int col,
			   int *x, int *y)
{
	*x = GRID_LEFT + (int)t * try_width(g) + col * GRID_CELL;
	*y = GRID_TOP + row * GRID_CELL;
}

/* What ended attempt t, in words. */
static void try_caption(const walk_grid *g, unsigned t, char *buf, size_t len)
{
	const walk_try *w = &g->tries[t];
	bool last = t + 1 == g->ntries && !g->more;

	if (last)
		snprintf(buf, len, "attempt %u: %s", t + 1,
			 g->fault ? "the access faults" : "the data");
	else if (w->fault_nested)
		snprintf(buf, len, "attempt %u: %s violation at L%u, retried",
			 t + 1, "EPT/NPT", w->fault_level);
	else
		snprintf(buf, len, "attempt %u: fault at guest L%u, retried", t + 1,
			 w->fault_level);
}

static void draw_walk(pen *pn, const void *what)
{
	const walk_grid *g = what;
	unsigned gl = g->guest_levels, tl = g->tdp_levels, r, c, t;
	char buf[192];
	int x, y;

	snprintf(buf, sizeof(buf), "2D walk of gva 0x%" PRIx64 ": %u memory "
		 "reference%s", g->gva, g->refs, g->refs == 1 ? "" : "s");
	if (g->ntries + g->more > 1)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			 " in %u attempts", g->ntries + g->more);
	pen_text(pn, 16, 28, 16, -1, 0, black, buf);
	snprintf(buf, sizeof(buf), "%s%s", g->end[0] ? "the access: " : "", g->end);
	pen_text(pn, 16, 50, 12, -1, 0, black, buf);
	for (r = 0; r <= gl; r++) {
		walk_grid_cell_origin(g, 0, (int)r, 0, &x, &y);
		if (r < gl)
			snprintf(buf, sizeof(buf), "guest L%u table", gl - r);
		else
			snprintf(buf, sizeof(buf), "final GPA");
		pen_text(pn, 16, y + GRID_CELL / 2.0 + 4, 12, -1, 0, black, buf);
	}
	for (t = 0; t < g->ntries; t++) {
		const walk_try *w = &g->tries[t];
		bool data = t + 1 == g->ntries && !g->more && !g->fault;

		walk_grid_cell_origin(g, t, 0, 0, &x, &y);
		if (g->ntries > 1) {
			try_caption(g, t, buf, sizeof(buf));
			pen_text(pn, x, y - 34, 12, -1, 0, black, buf);
		}
		for (c = 0; c <= tl; c++) {
			walk_grid_cell_origin(g, t, 0, (int)c, &x, &y);
			if (c < tl)
				snprintf(buf, sizeof(buf), "nested L%u", tl - c);
			else
				snprintf(buf, sizeof(buf), "guest entry");
			pen_text(pn, x + GRID_CELL / 2.0, y - 10, 11, 0, 0, black, buf);
		}
		for (r = 0; r <= gl; r++)
			for (c = 0; c <= tl; c++) {
				bool final = r == gl && c == tl;
				const double *rgb =
					w->cell[r][c] == CELL_REF ? walk_ref_rgb
					: w->cell[r][c] == CELL_CACHED ? walk_cached_rgb
					: final && data ? final_rgb : white;
				static const double edge[3] = {0.6, 0.6, 0.6};
				static const double final_edge[3] = {0.55, 0.25, 0};

				walk_grid_cell_origin(g, t, (int)r, (int)c, &x, &y);
				pen_box(pn, x + 2, y + 2, GRID_CELL - 4, GRID_CELL - 4,
					rgb, final ? final_edge : edge, final ? 3 : 1);
				if (w->order[r][c]) {
					snprintf(buf, sizeof(buf), "%u", w->order[r][c]);
					pen_text(pn, x + 7, y + 19, 13, -1, 0, white, buf);
				} else if (final && data) {
					pen_text(pn, x + 7, y + 19, 11, -1, 0, black, "data");
				}
			}
	}
	y = GRID_TOP + (int)(gl + 1) * GRID_CELL + 20;
	swatch(pn, 16, y, walk_ref_rgb, "memory reference (numbered in order)");
	swatch(pn, 16, y + 20, walk_cached_rgb, "TLB or walk-cache hit");
	swatch(pn, 290, y, final_rgb, "the data");
	if (g->more) {
		snprintf(buf, sizeof(buf), "(%u more attempts not drawn)", g->more);
		pen_text(pn, 290, y + 32, 12, -1, 0, black, buf);
	}
}

bool walk_grid_draw(const walk_grid *g, const char *path, char **err)
{
	int w, h;

	walk_grid_size(g, &w, &h);
	return draw_file(path, w, h, draw_walk, g, err);
}

/* ---- per-phase bars -------------------------------------------------------- */

const double plot_rgb[PLOT_REPS][3] = {
	{0.16, 0.36, 0.70}, {0.90, 0.45, 0.10}, {0.30, 0.65, 0.30},
	{0.75, 0.20, 0.25}, {0.50, 0.35, 0.70}, {0.55, 0.45, 0.30}};

static bool value_of(const rtab *r, unsigned phase, const char *scope,
		     const char *counter, gint64 *v)
{
	guint i;

	for (i = 0; i < r->values->len; i++) {
		const rep_value *x = &g_array_index(r->values, rep_value, i);

		if (x->phase == phase && !strcmp(x->scope, scope) &&
		    !strcmp(x->counter, counter)) {
			*v = x->value;
			return true;
		}
	}
	return false;
}

/* The bar of report r, phase p (from 1): a level's value at the phase's
 * end (the total less the later phases' changes), or the change during
 * the phase; 0 where the report lacks it. */
static gint64 bar_value(const rtab *r, const char *scope, const char *counter,
			bool level, size_t p)
{
	gint64 v = 0, later;
	size_t q;

	if (p >= r->phase_names->len)
		return 0;
	if (!level) {
		value_of(r, (unsigned)p, scope, counter, &v);
		return v;
	}
	value_of(r, 0, scope, counter, &v);
	for (q = p + 1; q < r->phase_names->len; q++)
		if (value_of(r, (unsigned)q, scope, counter, &later))
			v -= later;
	return v;
}

static bool is_level(const char *scope, const char *counter)
{
	sv_vm_stat id;

	return !strcmp(scope, "vm") && sv_vm_stat_lookup(&id, counter) == SV_OK &&
	       sv_vm_stat_is_level(id);
}

void plot_geom_clear(plot_geom *g)
{
	int i;

	for (i = 0; i < g->panels; i++)
		g_free(g->counter[i]);
	memset(g, 0, sizeof(*g));
}

bool plot_layout(const plot_input *in, plot_geom *g, char **err)
{
	g_auto(GStrv) dflt = g_strsplit(PLOT_DEFAULT, ",", -1);
	char **globs = in->counters ? in->counters : dflt, **gl;
	const char *scope = in->scope ? in->scope : "vm";
	const rtab *a = in->reps[0];
	size_t k;
	guint i;
	int rows;

	memset(g, 0, sizeof(*g));
	if (!in->nreps || in->nreps > PLOT_REPS) {
		*err = g_strdup_printf("%zu reports: plot draws 1 to %d side by "
				       "side", in->nreps, PLOT_REPS);
		return false;
	}
	for (gl = globs; *gl; gl++) {
		bool found = false;

		for (i = 0; i < a->values->len; i++) {
			const rep_value *v = &g_array_index(a->values, rep_value, i);
			int j;

			if (v->phase || strcmp(v->scope, scope) ||
			    !g_pattern_match_simple(*gl, v->counter))
				continue;
			found = true;
			for (j = 0; j < g->panels; j++)
				if (!strcmp(g->counter[j], v->counter))
					break;
			if (j < g->panels)
				continue;
			if (g->panels == PLOT_MAX_PANELS) {
				*err = g_strdup_printf("more than %d counters "
						       "match: name fewer",
						       PLOT_MAX_PANELS);
				plot_geom_clear(g);
				return false;
			}
			g->level[g->panels] = is_level(scope, v->counter);
			g->counter[g->panels++] = g_strdup(v->counter);
		}
		if (!found) {
			*err = g_strdup_printf("no %s counter matches '%s' "
					       "(simvirt list names them)", scope, *gl);
			plot_geom_clear(g);
			return false;
		}
	}
	for (k = 0; k < in->nreps; k++)
		g->phases = MAX(g->phases, in->reps[k]->phase_names->len);
	g->group_w = (int)in->nreps * PLOT_BAR + PLOT_GAP;
	g->panel_w = PLOT_AXIS + (int)(g->phases - 1) * g->group_w + 16;
	g->panel_w = MAX(g->panel_w, 260);
	g->columns = g->panels > 1 && g->panel_w <= 560 ? 2 : 1;
	rows = (g->panels + g->columns - 1) / g->columns;
	g->top = 44 + 18 * (int)in->nreps; /* the title, a legend line a report */
	g->width = 24 + g->columns * g->panel_w;
	g->height = g->top + rows * PLOT_PANEL_H;
	return true;
}

void plot_bar_at(const plot_geom *g, int i, size_t p, size_t k, int *x,
		 int *base)
{
	int x0 = 12 + (i % g->columns) * g->panel_w;
	int y0 = g->top + (i / g->columns) * PLOT_PANEL_H;

	*base = y0 + 50 + PLOT_HEIGHT;
	*x = x0 + PLOT_AXIS + 8 + (int)(p - 1) * g->group_w + (int)k * PLOT_BAR;
}

/* The axis of one panel: its top value and the ticks (linear: 0 and four
 * or so round steps; log: the powers of 10 from 1). */
typedef struct axis {
	bool log;
	double top;
	double ticks[16];
	int nticks;
} axis;

static void axis_make(axis *ax, bool log, gint64 max)
{
	double m = max > 0 ? (double)max : 1, step, mag;
	int i;

	ax->log = log;
	ax->nticks = 0;
	if (log) {
		ax->top = pow(10, ceil(log10(m)));
		if (ax->top < 10)
			ax->top = 10;
		for (step = 1; step <= ax->top && ax->nticks < 16; step *= 10)
			ax->ticks[ax->nticks++] = step;
		return;
	}
	/* counters are whole numbers: steps of 1, 2, 5 times a power of 10 */
	mag = MAX(1, pow(10, floor(log10(m / 4))));
	step = mag;
	for (i = 0; i < 3 && step * 4 < m; i++)
		step = mag * (i == 0 ? 2 : i == 1 ? 5 : 10);
	ax->top = ceil(m / step) * step;
	for (i = 0; i * step <= ax->top + step / 2 && ax->nticks < 16; i++)
		ax->ticks[ax->nticks++] = i * step;
}

/* The height of a bar of value v, in pixels. */
static double axis_height(const axis *ax, gint64 v)
{
	double h;

	if (v <= 0)
		return 0;
	h = ax->log ? (log10((double)v) + 1) / (log10(ax->top) + 1)
		    : (double)v / ax->top;
	return MAX(h * PLOT_HEIGHT, PLOT_MIN_BAR);
}

/* A log axis starts at 0.1, below its first tick (1), so that a value of
 * 1 still has a bar. */
static double axis_y(const axis *ax, int base, double tick)
{
	double f = ax->log ? (log10(tick) + 1) / (log10(ax->top) + 1)
			   : tick / ax->top;

	return base - f * PLOT_HEIGHT;
}

static void draw_panel(pen *pn, const plot_input *in, const plot_geom *g, int i)
{
	const char *scope = in->scope ? in->scope : "vm";
	const rtab *a = in->reps[0];
	gint64 max = 0;
	char buf[64];
	axis ax;
	size_t p, k;
	int x, base, x0, t;

	for (p = 1; p < g->phases; p++)
		for (k = 0; k < in->nreps; k++)
			max = MAX(max, bar_value(in->reps[k], scope, g->counter[i],
						 g->level[i], p));
	axis_make(&ax, in->log, max);
	plot_bar_at(g, i, 1, 0, &x, &base);
	x0 = x - PLOT_AXIS - 8;
	snprintf(buf, sizeof(buf), "%s (%s%s)", g->counter[i],
		 g->level[i] ? "at the end of each phase" : "during each phase",
		 ax.log ? ", log scale" : "");
	pen_text(pn, x0 + 4, base - PLOT_HEIGHT - 34, 12, -1, 0, black, buf);
	for (t = 0; t < ax.nticks; t++) {
		double y = axis_y(&ax, base, ax.ticks[t]);

		pen_line(pn, x0 + PLOT_AXIS, y + 0.5, x0 + g->panel_w - 12, y + 0.5,
			 light);
		rep_human(buf, sizeof(buf), ax.ticks[t]);
		pen_text(pn, x0 + PLOT_AXIS - 6, y + 4, 10, 1, 0, grey, buf);
	}
	pen_line(pn, x0 + PLOT_AXIS, base + 0.5, x0 + g->panel_w - 12, base + 0.5,
		 grey);
	pen_line(pn, x0 + PLOT_AXIS + 0.5, base, x0 + PLOT_AXIS + 0.5,
		 base - PLOT_HEIGHT, grey);
	for (p = 1; p < g->phases; p++) {
		for (k = 0; k < in->nreps; k++) {
			gint64 v = bar_value(in->reps[k], scope, g->counter[i],
					     g->level[i], p);
			double h = axis_height(&ax, v);

			plot_bar_at(g, i, p, k, &x, &base);
			if (h <= 0)
				continue;
			pen_rect(pn, x, base - h, PLOT_BAR - 1, h, plot_rgb[k]);
			rep_human(buf, sizeof(buf), (double)v);
			pen_text(pn, x + PLOT_BAR / 2.0 + 3, base - h - 3, 8, -1, -90,
				 grey, buf);
		}
		plot_bar_at(g, i, p, 0, &x, &base);
		pen_text(pn, x + (double)(in->nreps * PLOT_BAR) / 2, base + 12, 9, 1,
			 -35, black,
			 p < a->phase_names->len
				 ? (const char *)g_ptr_array_index(a->phase_names, p)
				 : "");
	}
}

/* "key=value, ..." of the configuration keys that differ between the
 * reports, for report k; NULL when nothing differs. */
static char *differences(const plot_input *in, size_t k)
{
	const rtab *r = in->reps[k];
	GString *out = g_string_new("");
	unsigned shown = 0, more = 0;
	guint i;
	size_t j;

	for (i = 0; i + 1 < r->config->len; i += 2) {
		const char *key = g_ptr_array_index(r->config, i);
		const char *val = g_ptr_array_index(r->config, i + 1);
		bool differs = false;

		for (j = 0; j < in->nreps; j++) {
			const char *o = rep_config(in->reps[j], key);

			differs |= !o || strcmp(o, val);
		}
		if (!differs)
			continue;
		if (shown < 4)
			g_string_append_printf(out, "%s%s=%s", shown ? ", " : "",
					       key, val);
		else
			more++;
		shown++;
	}
	if (more)
		g_string_append_printf(out, " and %u more", more);
	return g_string_free(out, !out->len);
}

static void draw_all(pen *pn, const plot_input *in, const plot_geom *g)
{
	const rtab *a = in->reps[0];
	char buf[256];
	size_t k;
	int i;

	snprintf(buf, sizeof(buf), "scenario %s%s", a->scenario,
		 in->nreps > 1 ? ": the reports side by side, per phase" : "");
	pen_text(pn, 16, 26, 16, -1, 0, black, buf);
	for (k = 0; k < in->nreps; k++) {
		g_autofree char *diff = differences(in, k);
		g_autofree char *base = g_path_get_basename(in->reps[k]->path);
		double y = 44 + 18 * (double)k;

		pen_rect(pn, 16, y - 10, 12, 12, plot_rgb[k]);
		snprintf(buf, sizeof(buf), "%s%s%s", base, diff ? ": " : "",
			 diff ? diff : "");
		pen_text(pn, 34, y, 11, -1, 0, black, buf);
	}
	for (i = 0; i < g->panels; i++)
		draw_panel(pn, in, g, i);
}

static void draw_plot(pen *pn, const void *what)
{
	const plot_input *in = ((const void *const *)what)[0];
	const plot_geom *g = ((const void *const *)what)[1];

	draw_all(pn, in, g);
}

bool plot_draw(const plot_input *in, const char *path, char **err)
{
	const void *what[2];
	plot_geom g;
	bool ok;

	if (!ends_with(path, ".svg") && !ends_with(path, ".png")) {
		*err = g_strdup_printf("%s: expected a file name ending in .svg or "
				       ".png", path);
		return false;
	}
	if (!plot_layout(in, &g, err))
		return false;
	what[0] = in;
	what[1] = &g;
	ok = draw_file(path, g.width, g.height, draw_plot, what, err);
	plot_geom_clear(&g);
	return ok;
}
