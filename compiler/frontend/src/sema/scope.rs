//! Lexical scopes of a body: the locals table, nested name maps, and "did you mean"
//! suggestions for unknown names.

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

/// The closest candidate to `name` within edit distance 2 (and not a trivial guess for
/// very short names), ties broken by the candidates' order.
pub(crate) fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let len = name.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance = edit_distance(name, candidate);
        if distance <= 2 && distance < len / 2 + 1 && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate.to_string())
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return 3;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("serch", ["search", "fetch"]), Some("search".into()));
        assert_eq!(suggest("x", ["q"]), None);
        assert_eq!(suggest("completely", ["search"]), None);
    }
}
