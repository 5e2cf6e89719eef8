//! The pairing engine: declared references, the scored fallback, splits and connected components.

use super::*;

/// Pairs the sides (see the module doc).
// size-exception: the pairing stages (declared, scored fallback, splits, components) share the edge set
pub fn pair(mut sides: Vec<Side>) -> Pairing {
    sides.sort_by(|a, b| (a.fecha, &a.id).cmp(&(b.fecha, &b.id)));
    let n = sides.len();
    let idx: HashMap<&str, usize> = sides
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    // 1. Declared references (either direction).
    let mut edges: BTreeMap<(usize, usize), Method> = BTreeMap::new();
    for (a, sa) in sides.iter().enumerate() {
        if sa.single() {
            continue;
        }
        for d in &sa.declared_ids {
            // A reference to a pedimento of another company than the RFC the side
            // declared is a wrong reference: left to the fallback match.
            if let Some(&b) = idx.get(d.as_str())
                && b != a
                && !sides[b].single()
                && sa.declared_rfc.as_ref().is_none_or(|r| *r == sides[b].rfc)
            {
                // Sender = the export side. Same tipo on both sides (VIRTUAL-CLAVE): the
                // earlier filed one, so the pair is recorded once.
                let e = if sa.tipo != sides[b].tipo {
                    if sa.tipo == 1 { (b, a) } else { (a, b) }
                } else {
                    (a.min(b), a.max(b))
                };
                edges.insert(e, Method::Declared);
            }
        }
    }
    let mut paired = vec![false; n];
    for &(s, r) in edges.keys() {
        paired[s] = true;
        paired[r] = true;
    }
    // 2. Fallback among the unpaired: index the pool by RFC and by declared RFC.
    let pool = |tipo: i32,
                paired: &Vec<bool>|
     -> (HashMap<String, Vec<usize>>, HashMap<String, Vec<usize>>) {
        let (mut by_rfc, mut by_decl): (HashMap<String, Vec<usize>>, HashMap<String, Vec<usize>>) =
            (HashMap::new(), HashMap::new());
        for (i, s) in sides.iter().enumerate() {
            if paired[i] || s.single() || s.tipo != tipo {
                continue;
            }
            by_rfc.entry(s.rfc.clone()).or_default().push(i);
            if let Some(d) = &s.declared_rfc {
                by_decl.entry(d.clone()).or_default().push(i);
            }
        }
        (by_rfc, by_decl)
    };
    // Stages: 0 exact, 1 split, 2 best single; each stage in both directions before the
    // next, so a partial single match never preempts a split seen from the other side.
    for (stage, x_tipo, c_tipo) in [
        (0, 2, 1),
        (0, 1, 2),
        (1, 2, 1),
        (1, 1, 2),
        (2, 2, 1),
        (2, 1, 2),
    ] {
        let (by_rfc, by_decl) = pool(c_tipo, &paired);
        if by_rfc.is_empty() {
            continue;
        }
        for x in 0..n {
            let sx = &sides[x];
            if paired[x] || sx.single() || sx.tipo != x_tipo {
                continue;
            }
            let mut cands: Vec<usize> = vec![];
            let within = |v: &Vec<usize>, out: &mut Vec<usize>| {
                // v is sorted by fecha (sides are): binary search the window.
                let lo = v.partition_point(|&i| sides[i].fecha < sx.fecha - FALLBACK_WINDOW_DAYS);
                for &i in &v[lo..] {
                    if sides[i].fecha > sx.fecha + FALLBACK_WINDOW_DAYS {
                        break;
                    }
                    out.push(i);
                }
            };
            if let Some(d) = &sx.declared_rfc
                && let Some(v) = by_rfc.get(d)
            {
                within(v, &mut cands);
            }
            if let Some(v) = by_decl.get(&sx.rfc) {
                within(v, &mut cands);
            }
            cands.sort_unstable();
            cands.dedup();
            let xkeys: HashMap<(&str, &str), i128> = sx
                .lines
                .iter()
                .map(|l| ((l.fraccion.as_str(), l.umt.as_str()), l.qty))
                .collect();
            cands.retain(|&c| {
                !paired[c]
                    && rfc_consistent(sx, &sides[c])
                    && sides[c]
                        .lines
                        .iter()
                        .any(|l| xkeys.contains_key(&(l.fraccion.as_str(), l.umt.as_str())))
            });
            if cands.is_empty() {
                continue;
            }
            cands.sort_by_key(|&c| ((sides[c].fecha - sx.fecha).abs(), sides[c].fecha, c));
            let chosen: Vec<usize> = match stage {
                0 => cands
                    .iter()
                    .find(|&&c| same_goods(sx, &sides[c]))
                    .map(|&c| vec![c])
                    .unwrap_or_default(),
                1 => {
                    // A split: candidates whose goods fit in x, taken nearest first while
                    // they fit, must add up exactly.
                    let mut rem = xkeys.clone();
                    let mut take = vec![];
                    for &c in &cands {
                        let fits = sides[c].lines.iter().all(|l| {
                            rem.get(&(l.fraccion.as_str(), l.umt.as_str()))
                                .is_some_and(|q| *q >= l.qty)
                        });
                        if fits {
                            for l in &sides[c].lines {
                                *rem.get_mut(&(l.fraccion.as_str(), l.umt.as_str())).unwrap() -=
                                    l.qty;
                            }
                            take.push(c);
                        }
                        if rem.values().all(|q| *q == 0) {
                            break;
                        }
                    }
                    if take.len() >= 2 && rem.values().all(|q| *q == 0) {
                        take
                    } else {
                        vec![]
                    }
                }
                _ => {
                    let best = cands
                        .iter()
                        .map(|&c| {
                            let (s, r) = if x_tipo == 2 { (x, c) } else { (c, x) };
                            (score(&sides[s], &sides[r]), c)
                        })
                        .max_by_key(|(sc, c)| (*sc, std::cmp::Reverse(*c)));
                    match best {
                        Some((sc, c)) if sc >= MIN_SCORE => vec![c],
                        _ => vec![],
                    }
                }
            };
            for c in chosen {
                let e = if x_tipo == 2 { (x, c) } else { (c, x) };
                edges.insert(e, Method::Fallback);
                paired[c] = true;
                paired[x] = true;
            }
        }
    }
    // 3. Groups and allocation.
    let mut uf = Uf((0..n).collect());
    for &(s, r) in edges.keys() {
        uf.union(s, r);
    }
    let mut group_of_root: HashMap<usize, usize> = HashMap::new();
    let mut side_group = vec![usize::MAX; n];
    for i in 0..n {
        if paired[i] {
            let root = uf.find(i);
            let next = group_of_root.len();
            side_group[i] = *group_of_root.entry(root).or_insert(next);
        }
    }
    let mut pairs: Vec<Pair> = edges
        .iter()
        .map(|(&(s, r), &m)| Pair {
            sender: s,
            receiver: r,
            method: m,
            score: score(&sides[s], &sides[r]),
            allocated: 0,
            group: side_group[s],
        })
        .collect();
    // Greedy allocation per (fracción, UMT), pairs in (sender date, receiver date) order.
    pairs.sort_by_key(|p| (p.group, p.sender, p.receiver));
    let mut rem: HashMap<(usize, &str, &str), i128> = HashMap::new();
    for (i, s) in sides.iter().enumerate() {
        if paired[i] {
            for l in &s.lines {
                *rem.entry((i, l.fraccion.as_str(), l.umt.as_str()))
                    .or_insert(0) += l.qty;
            }
        }
    }
    for p in pairs.iter_mut() {
        let mut alloc = 0;
        for l in &sides[p.sender].lines {
            let k = (l.fraccion.as_str(), l.umt.as_str());
            let a = rem.get(&(p.sender, k.0, k.1)).copied().unwrap_or(0);
            let b = rem.get(&(p.receiver, k.0, k.1)).copied().unwrap_or(0);
            let t = a.min(b).max(0);
            if t > 0 {
                *rem.get_mut(&(p.sender, k.0, k.1)).unwrap() -= t;
                *rem.get_mut(&(p.receiver, k.0, k.1)).unwrap() -= t;
                alloc += t;
            }
        }
        p.allocated = alloc;
    }
    let groups = group_of_root.len();
    Pairing {
        sides,
        pairs,
        side_group,
        groups,
    }
}
