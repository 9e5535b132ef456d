//! Lexical scopes of a body: the locals table, nested name maps, and "did you mean"
//! suggestions for unknown names.

use std::cell::Cell;
use std::collections::HashMap;

use crate::hir::{Local, LocalId};
use crate::span::Span;
use crate::types::Ty;

/// What the checker knows about a local beyond its [`Local`] entry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LocalInfo {
    /// A parameter (cannot be assigned).
    pub is_param: bool,
    /// How many map bodies enclose its declaration.
    pub map_level: u32,
}

/// The locals of one body and the scopes that name them.
#[derive(Default)]
pub(crate) struct Scopes {
    /// Every local, in declaration order (parameters first).
    pub locals: Vec<Local>,
    /// Per-local facts, parallel to `locals`.
    pub info: Vec<LocalInfo>,
    /// Innermost scope last.
    scopes: Vec<HashMap<String, LocalId>>,
}

impl Scopes {
    /// Opens a nested scope.
    pub fn push(&mut self) {
        self.scopes.push(HashMap::new());
    }

    /// Closes the innermost scope.
    pub fn pop(&mut self) {
        self.scopes.pop();
    }

    /// Declares a local in the innermost scope; on a duplicate in that scope, returns the
    /// span of the first declaration instead.
    pub fn declare(&mut self, name: &str, ty: Ty, span: Span, info: LocalInfo) -> Result<LocalId, Span> {
        if self.scopes.is_empty() {
            self.push();
        }
        let innermost = self.scopes.last_mut().expect("a scope is open");
        if let Some(&id) = innermost.get(name) {
            return Err(self.locals[id.0 as usize].span);
        }
        let id = LocalId(self.locals.len() as u32);
        innermost.insert(name.to_string(), id);
        self.locals.push(Local { name: name.to_string(), ty, span });
        self.info.push(info);
        Ok(id)
    }

    /// Finds a local by name, innermost scope first.
    pub fn lookup(&self, name: &str) -> Option<LocalId> {
        self.scopes.iter().rev().find_map(|scope| scope.get(name).copied())
    }

    /// The type of a local.
    pub fn ty(&self, id: LocalId) -> &Ty {
        &self.locals[id.0 as usize].ty
    }

    /// The names visible now (for suggestions), in a deterministic order.
    pub fn visible(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.scopes.iter().flat_map(|scope| scope.keys().cloned()).collect();
        names.sort();
        names.dedup();
        names
    }
}

/// How many unknown names of one program get a "did you mean" suggestion. Each suggestion
/// compares the name with every visible candidate, so a program with thousands of unknown
/// names and thousands of declarations would take quadratic time; past this many, unknown
/// names are still reported, without a suggestion (docs/language.md, "Limits").
pub(crate) const MAX_SUGGESTED_NAMES: u32 = 64;

/// The suggestions one program may still make (see [`MAX_SUGGESTED_NAMES`]); shared by
/// every body's checker through the globals.
#[derive(Debug)]
pub(crate) struct SuggestionBudget(Cell<u32>);

impl Default for SuggestionBudget {
    fn default() -> Self {
        SuggestionBudget(Cell::new(MAX_SUGGESTED_NAMES))
    }
}

impl SuggestionBudget {
    /// Takes one suggestion from the budget; false once it is spent.
    pub fn take(&self) -> bool {
        let left = self.0.get();
        self.0.set(left.saturating_sub(1));
        left > 0
    }
}

/// The closest candidate to `name` within edit distance 2 (and not a trivial guess for
/// very short names), ties broken by the candidates' order.
pub(crate) fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let name: Vec<char> = name.chars().collect();
    let limit = 2.min(name.len() / 2);
    let mut best: Option<(usize, &str)> = None;
    let mut rows = (Vec::new(), Vec::new());
    for candidate in candidates {
        let bound = best.map_or(limit, |(d, _)| d.saturating_sub(1).min(limit));
        if let Some(distance) = bounded_edit_distance(&name, candidate, bound, &mut rows)
            && distance > 0
            && best.is_none_or(|(d, _)| distance < d)
        {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate.to_string())
}

/// The Levenshtein distance over characters between `a` and `b` when it is at most
/// `bound`, else `None`; stops as soon as a row exceeds the bound (`rows` is scratch space
/// reused across calls).
fn bounded_edit_distance(a: &[char], b: &str, bound: usize, rows: &mut (Vec<usize>, Vec<usize>)) -> Option<usize> {
    // Cheap rejection first: the lengths alone differ by more than the bound.
    let b_len = b.chars().count();
    if a.len().abs_diff(b_len) > bound {
        return None;
    }
    let (previous, current) = rows;
    previous.clear();
    previous.extend(0..=b_len);
    for (i, &ca) in a.iter().enumerate() {
        current.clear();
        current.push(i + 1);
        let mut row_min = i + 1;
        for (j, cb) in b.chars().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            let value = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            row_min = row_min.min(value);
            current.push(value);
        }
        if row_min > bound {
            return None;
        }
        std::mem::swap(previous, current);
    }
    Some(previous[b_len]).filter(|&d| d <= bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("serch", ["search", "fetch"]), Some("search".into()));
        assert_eq!(suggest("x", ["q"]), None);
        assert_eq!(suggest("completely", ["search"]), None);
        // The closest wins; ties go to the first candidate; the name itself never does.
        assert_eq!(suggest("lenght", ["length", "lengthy", "lenght"]), Some("length".into()));
        assert_eq!(suggest("abcd", ["abxy", "abcx", "abcy"]), Some("abcx".into()));
    }

    #[test]
    fn bounded_distance_matches_levenshtein() {
        let mut rows = (Vec::new(), Vec::new());
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(bounded_edit_distance(&chars("kitten"), "sitting", 3, &mut rows), Some(3));
        assert_eq!(bounded_edit_distance(&chars("kitten"), "sitting", 2, &mut rows), None);
        assert_eq!(bounded_edit_distance(&chars("héllo"), "hello", 1, &mut rows), Some(1));
        assert_eq!(bounded_edit_distance(&chars(""), "ab", 2, &mut rows), Some(2));
    }

    #[test]
    fn budget_runs_out() {
        let budget = SuggestionBudget::default();
        assert!((0..MAX_SUGGESTED_NAMES).all(|_| budget.take()));
        assert!(!budget.take());
    }
}
