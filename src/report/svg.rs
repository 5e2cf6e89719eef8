//! Hand-written inline SVG charts. No charting crate: three small chart shapes are all a
//! report needs, and writing the markup ourselves keeps the output byte-for-byte
//! deterministic (coordinates are computed with `Decimal` and printed with one decimal,
//! never from f64 formatting), so golden tests can compare it.

use super::format::{html as esc, mxn, pct};
use rust_decimal::Decimal;
use std::fmt::Write;

const W: i64 = 760;
const H: i64 = 260;
const LEFT: i64 = 110;
const RIGHT: i64 = 20;
const TOP: i64 = 20;
const BOTTOM: i64 = 60;

pub const PALETTE: [&str; 8] = [
    "#1f5f8b", "#c0392b", "#e67e22", "#27ae60", "#8e44ad", "#7f8c8d", "#16a085", "#d35400",
];

fn d(n: i64) -> Decimal {
    Decimal::from(n)
}

/// One-decimal coordinate text.
fn c(v: Decimal) -> String {
    v.round_dp(1).normalize().to_string()
}

fn plot_w() -> Decimal {
    d(W - LEFT - RIGHT)
}
fn plot_h() -> Decimal {
    d(H - TOP - BOTTOM)
}

/// y pixel of `v` on a 0..max axis.
fn ypx(v: Decimal, max: Decimal) -> Decimal {
    if max.is_zero() {
        return d(TOP) + plot_h();
    }
    d(TOP) + plot_h() - plot_h() * v.max(Decimal::ZERO) / max
}

/// A "nice" axis maximum ≥ v: 1, 2 or 5 × 10^k.
pub fn nice_max(v: Decimal) -> Decimal {
    if v <= Decimal::ZERO {
        return Decimal::ONE;
    }
    let mut p = Decimal::ONE;
    while p * d(10) <= v {
        p *= d(10);
    }
    while p > v && p > Decimal::new(1, 2) {
        p /= d(10);
    }
    for m in [1, 2, 5, 10] {
        if p * d(m) >= v {
            return p * d(m);
        }
    }
    p * d(10)
}

fn open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}" font-family="sans-serif" font-size="11"><title>{t}</title>"#,
        t = esc(title)
    );
}

/// Horizontal grid lines with labels at 0, ¼, ½, ¾, max.
fn grid(out: &mut String, max: Decimal, label: impl Fn(Decimal) -> String) {
    for k in 0..=4 {
        let v = max * d(k) / d(4);
        let y = c(ypx(v, max));
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y}" x2="{x2}" y2="{y}" stroke="#ddd"/><text x="{lx}" y="{y}" text-anchor="end" dominant-baseline="middle" fill="#555">{t}</text>"##,
            x2 = W - RIGHT,
            lx = LEFT - 6,
            t = esc(&label(v))
        );
    }
}

fn x_label(out: &mut String, x: Decimal, text: &str, rotate: bool) {
    let y = H - BOTTOM + 14;
    if rotate {
        let _ = write!(
            out,
            r##"<text x="{x}" y="{y}" text-anchor="end" fill="#333" transform="rotate(-45 {x} {y})">{t}</text>"##,
            x = c(x),
            t = esc(text)
        );
    } else {
        let _ = write!(
            out,
            r##"<text x="{x}" y="{y}" text-anchor="middle" fill="#333">{t}</text>"##,
            x = c(x),
            t = esc(text)
        );
    }
}

/// Vertical bars with money labels (age buckets, open balance per year).
pub fn bars(title: &str, items: &[(String, Decimal)]) -> String {
    let mut out = String::new();
    open(&mut out, title);
    let max = nice_max(items.iter().map(|x| x.1).max().unwrap_or_default());
    grid(&mut out, max, |v| {
        mxn(v).trim_end_matches(".00").to_string()
    });
    let n = items.len().max(1) as i64;
    let slot = plot_w() / d(n);
    let bw = slot * Decimal::new(6, 1);
    for (i, (label, v)) in items.iter().enumerate() {
        let x = d(LEFT) + slot * d(i as i64) + (slot - bw) / d(2);
        let y = ypx(*v, max);
        let h = d(TOP) + plot_h() - y;
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{f}"><title>{t}</title></rect><text x="{tx}" y="{ty}" text-anchor="middle" fill="#222">{val}</text>"##,
            x = c(x),
            y = c(y),
            w = c(bw),
            h = c(h),
            f = PALETTE[0],
            t = esc(&format!("{label}: {}", mxn(*v))),
            tx = c(x + bw / d(2)),
            ty = c(y - d(4)),
            val = esc(&mxn(*v))
        );
        x_label(&mut out, x + bw / d(2), label, false);
    }
    out.push_str("</svg>");
    out
}

/// Stacked bars of counts per x label, one color per series (findings by check, month).
pub fn stacked(title: &str, xs: &[String], series: &[(String, Vec<usize>)]) -> String {
    let mut out = String::new();
    open(&mut out, title);
    let totals: Vec<usize> = (0..xs.len())
        .map(|i| series.iter().map(|s| s.1[i]).sum())
        .collect();
    // Counts: an axis maximum that is a multiple of 4 so every grid line is an integer.
    let top = totals.iter().copied().max().unwrap_or(0).max(1) as i64;
    // Step: the smallest of 1, 2, 3, 4, 5, 6, 8 × 10^k that is ≥ top / 4.
    let mut p = 1i64;
    let step = 'find: loop {
        for m in [1, 2, 3, 4, 5, 6, 8] {
            if m * p * 4 >= top {
                break 'find m * p;
            }
        }
        p *= 10;
    };
    let max = d(step * 4);
    grid(&mut out, max, |v| v.round_dp(1).normalize().to_string());
    let n = xs.len().max(1) as i64;
    let slot = plot_w() / d(n);
    let bw = (slot * Decimal::new(7, 1)).min(d(40));
    let rotate = xs.len() > 8;
    // Thin the labels when there are many months.
    let every = (xs.len() / 24).max(1);
    for (i, x_text) in xs.iter().enumerate() {
        let x = d(LEFT) + slot * d(i as i64) + (slot - bw) / d(2);
        let mut base = Decimal::ZERO;
        for (k, (name, vals)) in series.iter().enumerate() {
            let v = d(vals[i] as i64);
            if v.is_zero() {
                continue;
            }
            let y = ypx(base + v, max);
            let h = ypx(base, max) - y;
            let _ = write!(
                out,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{f}"><title>{t}</title></rect>"#,
                x = c(x),
                y = c(y),
                w = c(bw),
                h = c(h),
                f = PALETTE[k % PALETTE.len()],
                t = esc(&format!("{x_text} {name}: {}", vals[i]))
            );
            base += v;
        }
        if i % every == 0 {
            x_label(&mut out, x + bw / d(2), x_text, rotate);
        }
    }
    legend(&mut out, series.iter().map(|s| s.0.as_str()));
    out.push_str("</svg>");
    out
}

fn legend<'a>(out: &mut String, names: impl Iterator<Item = &'a str>) {
    for (k, name) in names.enumerate() {
        let x = LEFT + (k as i64 % 4) * 160;
        let y = 4 + (k as i64 / 4) * 12;
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{y}" width="10" height="10" fill="{f}"/><text x="{tx}" y="{ty}" fill="#333">{t}</text>"##,
            f = PALETTE[k % PALETTE.len()],
            tx = x + 14,
            ty = y + 9,
            t = esc(name)
        );
    }
}

/// A line of percentages per month with dashed threshold lines (return ratio).
/// Extras of the ratio chart: axis titles, the as-of marker and partial windows.
#[derive(Debug, Clone, Default)]
pub struct RatioMarks<'a> {
    pub x_title: &'a str,
    pub y_title: &'a str,
    /// The point (by month label) of the as-of date, and its legend text.
    pub as_of: Option<(&'a str, &'a str)>,
    /// One flag per point: the window starts before the first month with data (shaded).
    pub partial: &'a [bool],
    /// Legend text of the shading.
    pub partial_label: &'a str,
}

pub fn ratio_line(
    title: &str,
    points: &[(String, Option<Decimal>)],
    thresholds: &[(Decimal, &str)],
) -> String {
    ratio_chart(title, points, thresholds, &RatioMarks::default())
}

/// [`ratio_line`] with axis titles, an as-of marker and shaded partial windows.
pub fn ratio_chart(
    title: &str,
    points: &[(String, Option<Decimal>)],
    thresholds: &[(Decimal, &str)],
    marks: &RatioMarks,
) -> String {
    let mut out = String::new();
    open(&mut out, title);
    let n = points.len().max(1) as i64;
    let slot = plot_w() / d(n);
    // Partial windows: a grey band behind each such point.
    let mut any_partial = false;
    for (i, p) in marks.partial.iter().enumerate().take(points.len()) {
        if *p {
            any_partial = true;
            let _ = write!(
                out,
                r##"<rect x="{x}" y="{TOP}" width="{w}" height="{h}" fill="#e8e8e8"/>"##,
                x = c(d(LEFT) + slot * d(i as i64)),
                w = c(slot),
                h = c(plot_h())
            );
        }
    }
    if !marks.y_title.is_empty() {
        let _ = write!(
            out,
            r##"<text x="14" y="{y}" transform="rotate(-90 14 {y})" text-anchor="middle" fill="#333">{t}</text>"##,
            y = TOP + (H - TOP - BOTTOM) / 2,
            t = esc(marks.y_title)
        );
    }
    if !marks.x_title.is_empty() {
        let _ = write!(
            out,
            r##"<text x="{x}" y="{y}" text-anchor="middle" fill="#333">{t}</text>"##,
            x = LEFT + (W - LEFT - RIGHT) / 2,
            y = H - 4,
            t = esc(marks.x_title)
        );
    }
    if any_partial && !marks.partial_label.is_empty() {
        let _ = write!(
            out,
            r##"<rect x="{x}" y="3" width="14" height="10" fill="#e8e8e8" stroke="#bbb"/><text x="{tx}" y="13" fill="#333">{t}</text>"##,
            x = W - RIGHT - 230,
            tx = W - RIGHT - 212,
            t = esc(marks.partial_label)
        );
    }
    if let Some((month, label)) = marks.as_of
        && let Some(i) = points.iter().position(|p| p.0 == month)
    {
        let x = c(d(LEFT) + slot * d(i as i64) + slot / d(2));
        let _ = write!(
            out,
            r##"<line x1="{x}" y1="{TOP}" x2="{x}" y2="{y2}" stroke="#555" stroke-width="1" stroke-dasharray="2 3"/><text x="{x}" y="{ty}" text-anchor="end" fill="#555">{t}</text>"##,
            y2 = H - BOTTOM,
            ty = TOP + 12,
            t = esc(label)
        );
    }
    let top = points
        .iter()
        .filter_map(|p| p.1)
        .chain(thresholds.iter().map(|t| t.0))
        .max()
        .unwrap_or(d(100))
        .max(d(100));
    let max = if top <= d(100) { d(100) } else { nice_max(top) };
    grid(&mut out, max, pct);
    // Threshold lines, named in a legend above the plot (labels on the lines would
    // collide with the series).
    for (k, (v, name)) in thresholds.iter().enumerate() {
        let y = c(ypx(*v, max));
        let color = PALETTE[1 + k % 2];
        let lx = LEFT + k as i64 * 220;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y}" x2="{x2}" y2="{y}" stroke="{color}" stroke-width="1.5" stroke-dasharray="6 4"/><line x1="{lx}" y1="9" x2="{lx2}" y2="9" stroke="{color}" stroke-width="2" stroke-dasharray="6 4"/><text x="{tx}" y="13" fill="#333">{t}</text>"##,
            x2 = W - RIGHT,
            lx2 = lx + 24,
            tx = lx + 30,
            t = esc(name)
        );
    }
    let mut path = String::new();
    let every = (points.len() / 24).max(1);
    for (i, (label, v)) in points.iter().enumerate() {
        let x = d(LEFT) + slot * d(i as i64) + slot / d(2);
        if let Some(v) = v {
            let y = ypx(*v, max);
            path.push_str(if path.is_empty() { "M" } else { " L" });
            let _ = write!(path, "{} {}", c(x), c(y));
            let _ = write!(
                out,
                r#"<circle cx="{x}" cy="{y}" r="3" fill="{f}"><title>{t}</title></circle>"#,
                x = c(x),
                y = c(y),
                f = PALETTE[0],
                t = esc(&format!("{label}: {}", pct(*v)))
            );
        }
        if i % every == 0 {
            x_label(&mut out, x, label, points.len() > 8);
        }
    }
    if !path.is_empty() {
        let _ = write!(
            out,
            r#"<path d="{path}" fill="none" stroke="{f}" stroke-width="2"/>"#,
            f = PALETTE[0]
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn nice_axis() {
        assert_eq!(nice_max(d(0)), d(1));
        assert_eq!(nice_max(d(7)), d(10));
        assert_eq!(nice_max(d(130)), d(200));
        assert_eq!(nice_max(d(2_000)), d(2_000));
        assert_eq!(nice_max(d(2_001)), d(5_000));
        assert_eq!(nice_max(Decimal::new(35, 2)), Decimal::new(50, 2));
    }
    #[test]
    fn escapes_labels_and_is_deterministic() {
        let a = bars("<x>", &[("a&b".into(), d(10))]);
        assert!(a.contains("&lt;x&gt;") && a.contains("a&amp;b") && !a.contains("<x>"));
        assert_eq!(a, bars("<x>", &[("a&b".into(), d(10))]));
        let s = stacked("t", &["2024-01".into()], &[("A".into(), vec![3])]);
        assert!(s.contains("2024-01 A: 3"));
        // Integer grid labels for counts (axis 0..4 for a maximum of 3; 0..240 for 207).
        let big = stacked("t", &["2024-01".into()], &[("A".into(), vec![207])]);
        assert!(big.contains(">60</text>") && big.contains(">240</text>"));
        assert!(s.contains(">1</text>") && s.contains(">4</text>") && !s.contains(">0.5<"));
    }
}
