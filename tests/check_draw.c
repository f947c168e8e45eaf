/*
 * check_draw.c - the pictures of the simvirt command: the 2D walk grid and
 * the per-phase bars, rendered to PNG from real runs and read back pixel
 * by pixel, and the SVG's dimensions.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cairo.h>
#include <glib.h>

#include "draw.h"

#ifndef SV_SCENARIO_DIR
#error "SV_SCENARIO_DIR must name the scenarios/ directory"
#endif

#define T_OK(call) ck_assert_int_eq((call), SV_OK)

static char *tmp_path(const char *suffix)
{
	return g_strdup_printf("%s/simvirt-draw-%d%s", g_get_tmp_dir(),
			       (int)getpid(), suffix);
}

/* Is the pixel at (x, y) of an RGB24 surface the colour rgb? */
static bool pixel_is(cairo_surface_t *img, int x, int y, const double rgb[3])
{
	const unsigned char *row = cairo_image_surface_get_data(img) +
				   (size_t)y * (size_t)cairo_image_surface_get_stride(img);
	uint32_t px = ((const uint32_t *)row)[x];
	int i, got[3] = {(int)(px >> 16) & 0xff, (int)(px >> 8) & 0xff,
			 (int)px & 0xff};

	for (i = 0; i < 3; i++)
		if (abs(got[i] - (int)(rgb[i] * 255.0 + 0.5)) > 2)
			return false;
	return true;
}

static cairo_surface_t *read_png(const char *path, int w, int h)
{
	cairo_surface_t *img = cairo_image_surface_create_from_png(path);

	ck_assert_int_eq(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
	ck_assert_int_eq(cairo_image_surface_get_width(img), w);
	ck_assert_int_eq(cairo_image_surface_get_height(img), h);
	cairo_surface_flush(img);
	return img;
}

/* ---- the walk grid ------------------------------------------------------- */

typedef struct walk_job {
	const char *phase; /* walk when this phase begins */
	bool cold;         /* after INVEPT */
	walk_grid grid;
	sv_xlate x;
	bool walked;
} walk_job;

/* One read of 0x40000000 on vCPU 0 when the phase begins, into the grid. */
static int walk_at(const char *phase, sv_vm *vm, void *payload)
{
	walk_job *j = payload;
	sv_vcpu *v = sv_vm_vcpu(vm, 0);

	if (strcmp(phase, j->phase) != 0)
		return 0;
	walk_grid_init(&j->grid, sv_vm_options_get(vm)->guest_levels,
		       sv_vm_options_get(vm)->tdp_levels, 0x40000000);
	if (j->cold)
		T_OK(sv_vcpu_invept(v, 2, 0));
	sv_vcpu_set_walk_observer(v, walk_grid_event, &j->grid);
	T_OK(sv_vcpu_translate(&j->x, v, 0x40000000, 8, SV_ACCESS_READ));
	sv_vcpu_set_walk_observer(v, NULL, NULL);
	walk_grid_end(&j->grid, &j->x);
	j->walked = true;
	return 1;
}

static void run_walk(const char *scenario, const char *const *sets,
		     walk_job *j)
{
	g_autofree char *path = g_strdup_printf("%s/%s.ini", SV_SCENARIO_DIR,
						scenario);
	sv_run_options o = SV_RUN_OPTIONS_INIT;
	sv_scenario *s = NULL;
	sv_report *r = NULL;

	T_OK(sv_scenario_load(&s, path, sets));
	o.on_phase = walk_at;
	o.payload = j;
	T_OK(sv_scenario_run(&r, s, &o));
	ck_assert(j->walked);
	sv_report_free(r);
	sv_scenario_free(s);
}

START_TEST(t_walk_grid)
{
	g_autofree char *png = tmp_path(".png"), *svg = tmp_path(".svg");
	g_autofree char *text = NULL, *want = NULL;
	cairo_surface_t *img;
	walk_job j = {.phase = "end", .cold = true};
	char *err = NULL;
	int w, h, row, col, x, y, refs = 0, cached = 0;

	run_walk("walk-lab", NULL, &j);
	ck_assert_msg(walk_grid_draw(&j.grid, png, &err), "%s", err);
	walk_grid_size(&j.grid, &w, &h);
	/* 4-level guest over 4-level EPT: 5 x 5 cells, one attempt */
	ck_assert_uint_eq(j.grid.ntries, 1);
	ck_assert_int_eq(w, GRID_LEFT + 5 * GRID_CELL + 40);
	ck_assert_int_eq(h, GRID_TOP + 5 * GRID_CELL + 60);
	img = read_png(png, w, h);
	for (row = 0; row < 5; row++)
		for (col = 0; col < 5; col++) {
			walk_grid_cell_origin(&j.grid, 0, row, col, &x, &y);
			x += GRID_CELL * 3 / 4;
			y += GRID_CELL * 3 / 4;
			refs += pixel_is(img, x, y, walk_ref_rgb);
			cached += pixel_is(img, x, y, walk_cached_rgb);
		}
	cairo_surface_destroy(img);
	/* 4 nested refs for the PML4 table's GPA + 1 guest entry, 1 nested +
	 * 1 guest for each lower table, 3 nested for the final GPA: 14 */
	ck_assert_int_eq(refs, 14);
	/* the lower tables' GPAs find EPT L4-L2 in the walk cache (3 x 3),
	 * the final GPA its L4 entry (1): 10 */
	ck_assert_int_eq(cached, 10);

	/* SVG: its size, and its text as text */
	ck_assert_msg(walk_grid_draw(&j.grid, svg, &err), "%s", err);
	ck_assert(g_file_get_contents(svg, &text, NULL, NULL));
	want = g_strdup_printf("width=\"%d\" height=\"%d\"", w, h);
	ck_assert_ptr_nonnull(strstr(text, "<svg"));
	ck_assert_ptr_nonnull(strstr(text, want));
	ck_assert_ptr_nonnull(strstr(text, ">2D walk of gva 0x40000000: 14 memory "
					   "references</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">the access: translated to gpa "
					   "0x40000000"));
	ck_assert(!walk_grid_draw(&j.grid, "/tmp/grid.jpeg", &err));
	ck_assert_ptr_nonnull(strstr(err, "expected a file name ending in .svg or .png"));
	g_free(err);
	unlink(png);
	unlink(svg);
}
END_TEST

/*
 * A walk that meets an EPT violation: under 6.12, turning dirty logging
 * off zaps the 4K tables that could be huge (docs/kvm-reference.md
 * scenario 17), so when kvm_page_table_test's adjust stage begins the
 * data's nested L2 entry is gone.  The read walks to it, exits, KVM maps
 * the 2M page and the read starts again: two attempts, drawn side by
 * side, every reference in a cell of its own.
 */
START_TEST(t_walk_retry)
{
	const char *sets[] = {"memslot.data.size=64M", "vm.kernel_version=6.12",
			      NULL};
	g_autofree char *svg = tmp_path(".svg"), *text = NULL;
	walk_job j = {.phase = "adjust", .cold = false};
	const walk_grid *g = &j.grid;
	char *err = NULL;
	unsigned t, r, c, drawn = 0;
	int w, h;

	run_walk("kpt-thp", sets, &j);
	ck_assert_uint_eq(j.x.exits, 1);
	ck_assert_uint_eq(g->ntries, 2);
	ck_assert(g->tries[0].fault && g->tries[0].fault_nested);
	ck_assert(!g->fault);
	/* every reference the model counted has its own numbered cell */
	ck_assert_uint_eq(g->refs, j.x.refs);
	for (t = 0; t < g->ntries; t++)
		for (r = 0; r <= g->guest_levels; r++)
			for (c = 0; c <= g->tdp_levels; c++)
				drawn += g->tries[t].order[r][c] != 0;
	ck_assert_uint_eq(drawn, g->refs);
	walk_grid_size(g, &w, &h);
	ck_assert_int_eq(w, GRID_LEFT + 2 * (5 * GRID_CELL + GRID_TRY_GAP) -
				    GRID_TRY_GAP + 40);
	ck_assert_msg(walk_grid_draw(g, svg, &err), "%s", err);
	ck_assert(g_file_get_contents(svg, &text, NULL, NULL));
	ck_assert_ptr_nonnull(strstr(text, "in 2 attempts</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">attempt 1: EPT/NPT violation at L"));
	ck_assert_ptr_nonnull(strstr(text, ">attempt 2: the data</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">the access: translated to gpa "
					   "0x40000000"));
	unlink(svg);
}
END_TEST

/* ---- the per-phase bars ------------------------------------------------------ */

/* A run of tlb-conflict (sets: overrides) as a report read back. */
static rtab *run_report(const char *const *sets, const char *name)
{
	g_autofree char *path = g_strdup_printf("%s/%s.ini", SV_SCENARIO_DIR,
						"tlb-conflict");
	g_autofree char *json = tmp_path(name);
	sv_scenario *s = NULL;
	sv_report *r = NULL;
	char *why = NULL;
	rtab *t;
	FILE *f;

	T_OK(sv_scenario_load(&s, path, sets));
	T_OK(sv_scenario_run(&r, s, NULL));
	f = fopen(json, "w");
	ck_assert_ptr_nonnull(f);
	T_OK(sv_report_write(r, f, SV_REPORT_JSON));
	fclose(f);
	t = rep_load(json, &why);
	ck_assert_msg(t != NULL, "%s", why);
	unlink(json);
	sv_report_free(r);
	sv_scenario_free(s);
	return t;
}

START_TEST(t_plot_bars)
{
	/* Expected bars of tlb-conflict's phases start, populate, dirty-log,
	 * re-touch, sync 4 (1 = a bar stands on the baseline), for A (its
	 * kernel, 6.13) and B (6.12), in the default panels:
	 *   pages_4k: the library's own 4K SPTEs exist after every phase;
	 *   pages_2m: the block is 2M after populate, 4K while logging, 2M
	 *             again from the re-touch on;
	 *   pages_1g: never;
	 *   pf_taken: none at the start (the guest's own pages are
	 *             resident), the 2M fault, 512 write faults; at the
	 *             re-touch 6.13 rebuilds the 2M SPTE in place (no fault)
	 *             where 6.12 zapped it and takes one fault (scenario 17);
	 *   remote_tlb_flush_requests: logging on, the base-only flush;
	 *   cycles: every phase runs guest code. */
	static const int want[6][2][5] = {
		{{1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}},
		{{0, 1, 0, 1, 1}, {0, 1, 0, 1, 1}},
		{{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}},
		{{0, 1, 1, 0, 0}, {0, 1, 1, 1, 0}},
		{{0, 0, 1, 1, 0}, {0, 0, 1, 1, 0}},
		{{1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}},
	};
	const char *old[] = {"vm.kernel_version=6.12", NULL};
	rtab *reps[2] = {run_report(NULL, "-a.json"), run_report(old, "-b.json")};
	plot_input in = {reps, 2, NULL, "vm", false};
	g_autofree char *png = tmp_path(".png"), *svg = tmp_path(".svg");
	g_autofree char *text = NULL;
	char *err = NULL, *nope[] = {"nope*", NULL};
	cairo_surface_t *img;
	plot_geom g;
	int i, x, base, last = 0;
	size_t p, k;

	ck_assert_msg(plot_draw(&in, png, &err), "%s", err);
	ck_assert(plot_layout(&in, &g, &err));
	ck_assert_int_eq(g.panels, 6);
	ck_assert_uint_eq(g.phases, 6); /* the totals and 5 phases */
	img = read_png(png, g.width, g.height);
	for (i = 0; i < g.panels; i++)
		for (p = 1; p < g.phases; p++)
			for (k = 0; k < 2; k++) {
				plot_bar_at(&g, i, p, k, &x, &base);
				if (pixel_is(img, x + PLOT_BAR / 2, base - 1,
					     plot_rgb[k]) != want[i][k][p - 1])
					ck_abort_msg("%s, phase %zu, report %zu: bar %s",
						     g.counter[i], p, k,
						     want[i][k][p - 1] ? "missing"
								       : "unexpected");
				last = MAX(last, base);
			}
	/* no empty band: the last row of panels ends the picture */
	ck_assert_int_ge(last, g.height - (PLOT_PANEL_H - 50 - PLOT_HEIGHT));
	cairo_surface_destroy(img);
	plot_geom_clear(&g);
	/* The SVG keeps its text as text: the legend names the difference,
	 * a log axis labels its powers of ten. */
	in.log = true;
	ck_assert_msg(plot_draw(&in, svg, &err), "%s", err);
	ck_assert(g_file_get_contents(svg, &text, NULL, NULL));
	ck_assert_ptr_nonnull(strstr(text, "vm.kernel_version=6.12</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">pf_taken (during each phase, log "
					   "scale)</text>"));
	ck_assert_ptr_nonnull(strstr(text, ">1K</text>"));  /* pf_taken: 512 */
	ck_assert_ptr_nonnull(strstr(text, ">re-touch</text>"));
	/* A glob that matches nothing: said so, nothing drawn. */
	in.counters = nope;
	ck_assert(!plot_draw(&in, png, &err));
	ck_assert_str_eq(err, "no vm counter matches 'nope*' (simvirt list names "
			      "them)");
	g_free(err);
	unlink(png);
	unlink(svg);
	rep_free(reps[0]);
	rep_free(reps[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("draw");
	TCase *tc = tcase_create("pictures");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_walk_grid);
	tcase_add_test(tc, t_walk_retry);
	tcase_add_test(tc, t_plot_bars);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
