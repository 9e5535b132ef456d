//! The call graphs between agents and between fns must be acyclic: agents form a DAG
//! (no recursion, direct or mutual), and so do fns.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// Reports every cycle (once per strongly connected group) among `nodes`, whose calls
/// are `edges[i]` = (callee, call site). `what` is "agents" or "fns".
pub(crate) fn report_cycles(
    what: &str,
    nodes: &[String],
    edges: &[Vec<(String, Span)>],
    diags: &mut Vec<Diagnostic>,
) {
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let succ: Vec<Vec<(usize, Span)>> = edges
        .iter()
        .map(|calls| calls.iter().filter_map(|(c, s)| index.get(c.as_str()).map(|&i| (i, *s))).collect())
        .collect();
    // 0 = unvisited, 1 = on the current path, 2 = done.
    let mut state = vec![0u8; nodes.len()];
    let mut reported = vec![false; nodes.len()];
    for root in 0..nodes.len() {
        if state[root] != 0 {
            continue;
        }
        // Iterative DFS: (node, next edge index); `path` mirrors the stack.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if *next < succ[node].len() {
                let (target, site) = succ[node][*next];
                *next += 1;
                match state[target] {
                    0 => {
                        state[target] = 1;
                        stack.push((target, 0));
                    }
                    1 => {
                        let start = stack.iter().position(|&(n, _)| n == target).unwrap_or(0);
                        let cycle: Vec<usize> = stack[start..].iter().map(|&(n, _)| n).collect();
                        if cycle.iter().all(|&n| !reported[n]) {
                            for &n in &cycle {
                                reported[n] = true;
                            }
                            let mut names: Vec<String> = cycle.iter().map(|&n| format!("`{}`", nodes[n])).collect();
                            names.push(format!("`{}`", nodes[target]));
                            diags.push(
                                Diagnostic::error(format!("recursion between {what}: {}", names.join(" → ")), site)
                                    .with_label("this call closes the cycle")
                                    .with_help(format!("{what} must not call themselves, directly or through others")),
                            );
                        }
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
}
