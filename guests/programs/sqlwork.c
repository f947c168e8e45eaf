/*
 * guests/programs/sqlwork.c - a fixed SQL workload over SQLite, linked
 * statically against Debian's libsqlite3.a, to run unmodified as a guest
 * (`simvirt exec`) and natively: an in-memory database, ROWS inserts in
 * one transaction (keys from a fixed linear congruential sequence), an
 * index, and queries whose results it prints (integers and text).  Usage: sqlwork [ROWS]
 * (default 50000).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

static sqlite3 *db;

static void check(int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "sqlwork: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static void query(const char *sql)
{
	sqlite3_stmt *s;
	int rc, i;

	check(sqlite3_prepare_v2(db, sql, -1, &s, NULL), sql);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(s); i++)
			printf("%s%s", i ? "|" : "",
			       (const char *)sqlite3_column_text(s, i));
		printf("\n");
	}
	check(rc, sql);
	sqlite3_finalize(s);
}

int main(int argc, char **argv)
{
	long rows = argc > 1 ? atol(argv[1]) : 50000, i;
	unsigned long x = 12345;
	sqlite3_stmt *s;
	char name[32];

	check(sqlite3_open(":memory:", &db), "open");
	check(sqlite3_exec(db, "CREATE TABLE t(k INTEGER, name TEXT, v REAL);"
			       "BEGIN;", NULL, NULL, NULL), "create");
	check(sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?, ?, ?)", -1, &s,
				 NULL), "prepare");
	for (i = 0; i < rows; i++) {
		x = x * 6364136223846793005UL + 1442695040888963407UL;
		snprintf(name, sizeof(name), "n%08lx", (x >> 33) & 0xfffffff);
		sqlite3_bind_int64(s, 1, (sqlite3_int64)((x >> 40) % 1000000));
		sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(s, 3, (double)(i % 1000) / 8.0);
		check(sqlite3_step(s), "insert");
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	check(sqlite3_exec(db, "COMMIT; CREATE INDEX tk ON t(k);", NULL, NULL,
			   NULL), "index");
	/* REAL results are printed as integers: SQLite formats floating point
	 * with x87 long double, which Unicorn 2.0.1 rounds differently from
	 * the hardware in the last digits */
	query("SELECT count(*), sum(k), sum(CAST(v * 8 AS INTEGER)) FROM t");
	query("SELECT count(*) FROM t WHERE k BETWEEN 250000 AND 500000");
	query("SELECT k % 7, count(*), min(name) FROM t GROUP BY k % 7 ORDER BY 1");
	query("SELECT name FROM t ORDER BY k DESC, name LIMIT 3");
	sqlite3_close(db);
	return 0;
}
