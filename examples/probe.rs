use polars::prelude::*;
use polars::sql::SQLContext;
fn main() -> PolarsResult<()> {
    let df = df!("g" => ["a","a","a","b","b"], "t" => [1,2,3,1,2], "x" => [5i64,-1,7,2,3])?;
    let mut ctx = SQLContext::new();
    ctx.register("e", df.lazy());
    for q in [
        "SELECT g,t,x, SUM(x) OVER (PARTITION BY g ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) s FROM e ORDER BY g,t",
        "SELECT g,t,x, MAX(x) OVER (PARTITION BY g ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) m FROM e ORDER BY g,t",
        "SELECT g,t,x, MIN(x) OVER (PARTITION BY g ORDER BY t DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) m FROM e ORDER BY g,t",
        "SELECT g,t,x, LAG(x) OVER (PARTITION BY g ORDER BY t) l FROM e ORDER BY g,t",
        "SELECT g,t, GREATEST(x, 0) gx, LEAST(x,3) lx FROM e",
        "SELECT g, t FROM e WHERE NOT EXISTS (SELECT 1 FROM e e2 WHERE e2.t = e.t + 10)",
        "SELECT a.g, a.t, b.t t2 FROM e a JOIN e b ON a.g = b.g AND a.t < b.t",
        "SELECT g, CAST('2024-01-31' AS DATE) + INTERVAL '1 month' d FROM e",
        "SELECT g, DATE_ADD('month', 18, CAST('2024-01-31' AS DATE)) d FROM e",
        "SELECT g, x FROM e CROSS JOIN (SELECT 1 AS one) p",
    ] {
        match ctx.execute(q).and_then(|l| l.collect()) {
            Ok(d) => println!("OK {q}\n{d}"),
            Err(e) => println!("FAIL {q}: {e}"),
        }
    }
    Ok(())
}
