-- Deterministic SQLite workload (no random(), no date('now')).
PRAGMA cache_size = -65536;
CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, c TEXT, d REAL);
BEGIN;
WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM seq WHERE x < 80000)
INSERT INTO t(id, a, b, c, d)
  SELECT x, (x * 7919) % 1000, (x * 104729) % 100003,
         printf('name-%05d-%s', (x * 31) % 50000, substr('abcdefghijklmnopqrstuvwxyz', 1 + x % 26, 3)),
         (x % 997) * 0.25 + x / 1000.0
  FROM seq;
COMMIT;
CREATE TABLE g(a INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM s WHERE x < 999)
INSERT INTO g SELECT x, 'grp' || (x % 17) FROM s;
CREATE INDEX t_b ON t(b);
CREATE INDEX t_c ON t(c);
SELECT count(*), sum(a), sum(b), printf('%.4f', sum(d)) FROM t;
SELECT a, count(*), sum(b) FROM t GROUP BY a ORDER BY sum(b) DESC, a LIMIT 5;
SELECT g.label, count(*), min(t.b), max(t.b), printf('%.3f', avg(t.d))
  FROM t JOIN g ON g.a = t.a GROUP BY g.label ORDER BY g.label;
SELECT count(*) FROM t WHERE b BETWEEN 20000 AND 30000;
SELECT substr(c, 1, 9), count(*) FROM t GROUP BY substr(c, 1, 9) ORDER BY count(*) DESC, 1 LIMIT 5;
SELECT count(DISTINCT c), max(length(c)) FROM t;
SELECT id, c FROM t WHERE c LIKE 'name-0042%' ORDER BY id LIMIT 3;
SELECT t1.id, t2.id FROM t t1 JOIN t t2 ON t2.b = t1.a * 100 WHERE t1.id % 1000 = 7 ORDER BY t1.id LIMIT 5;
SELECT x, s FROM (SELECT a % 10 AS x, sum(b) OVER (PARTITION BY a % 10 ORDER BY id) AS s,
                         row_number() OVER (PARTITION BY a % 10 ORDER BY id DESC) AS rn FROM t WHERE id % 8 = 0)
  WHERE rn = 1 ORDER BY x;
UPDATE t SET d = d * 2 WHERE a < 100;
DELETE FROM t WHERE b % 10 = 3;
SELECT count(*), printf('%.4f', sum(d)), total_changes() FROM t;
SELECT group_concat(c, '|') FROM (SELECT c FROM t ORDER BY b DESC, id LIMIT 4);
