//! One device's busy intervals, with an earliest-idle-slot search in O(log n).
//!
//! Intervals live in a treap keyed by start time (expected depth O(log n); priorities
//! from a fixed-seed hash, so the shape is deterministic). Each node also stores the idle
//! gap between its end and the next interval's start (infinite for the last) and the
//! largest such gap in its subtree. "First gap of at least `d` after time `t`" then
//! descends one root-to-leaf path, skipping every subtree whose largest gap is < `d`:
//! O(log n) expected per query, and O(log n) per insertion (split, fix the predecessor's
//! gap along one spine, merge). HEFT's insertion policy over n fragments and a fixed
//! number of devices therefore costs O(n log n), not the O(n²) of a linear slot scan.

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Node {
    start: f64,
    end: f64,
    frag: u32,
    gap: f64,
    max_gap: f64,
    prio: u64,
    left: u32,
    right: u32,
}

/// The busy intervals of one device.
#[derive(Clone, Debug)]
pub struct Timeline {
    nodes: Vec<Node>,
    root: u32,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            nodes: Vec::new(),
            root: NIL,
        }
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// Busy intervals held.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no interval is held.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn n(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    fn max_gap(&self, i: u32) -> f64 {
        if i == NIL {
            f64::NEG_INFINITY
        } else {
            self.n(i).max_gap
        }
    }

    fn pull(&mut self, i: u32) {
        let (l, r) = (self.n(i).left, self.n(i).right);
        let m = self.n(i).gap.max(self.max_gap(l)).max(self.max_gap(r));
        self.nodes[i as usize].max_gap = m;
    }

    /// Splits `t` into (starts < key, starts >= key).
    fn split(&mut self, t: u32, key: f64) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.n(t).start < key {
            let (a, b) = self.split(self.n(t).right, key);
            self.nodes[t as usize].right = a;
            self.pull(t);
            (t, b)
        } else {
            let (a, b) = self.split(self.n(t).left, key);
            self.nodes[t as usize].left = b;
            self.pull(t);
            (a, t)
        }
    }

    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.n(a).prio > self.n(b).prio {
            let r = self.merge(self.n(a).right, b);
            self.nodes[a as usize].right = r;
            self.pull(a);
            a
        } else {
            let l = self.merge(a, self.n(b).left);
            self.nodes[b as usize].left = l;
            self.pull(b);
            b
        }
    }

    /// Sets the gap of the rightmost node of `t`, re-aggregating along the spine.
    fn set_last_gap(&mut self, t: u32, gap: f64) {
        let r = self.n(t).right;
        if r == NIL {
            self.nodes[t as usize].gap = gap;
        } else {
            self.set_last_gap(r, gap);
        }
        self.pull(t);
    }

    fn leftmost(&self, mut t: u32) -> u32 {
        if t == NIL {
            return NIL;
        }
        while self.n(t).left != NIL {
            t = self.n(t).left;
        }
        t
    }

    fn rightmost(&self, mut t: u32) -> u32 {
        if t == NIL {
            return NIL;
        }
        while self.n(t).right != NIL {
            t = self.n(t).right;
        }
        t
    }

    /// The last interval starting at or before `t` (`strict`: before `t`).
    fn pred(&self, t: f64, strict: bool) -> u32 {
        let (mut x, mut best) = (self.root, NIL);
        while x != NIL {
            let s = self.n(x).start;
            if s < t || (!strict && s == t) {
                best = x;
                x = self.n(x).right;
            } else {
                x = self.n(x).left;
            }
        }
        best
    }

    /// The first interval starting after `t`.
    fn succ(&self, t: f64) -> u32 {
        let (mut x, mut best) = (self.root, NIL);
        while x != NIL {
            if self.n(x).start > t {
                best = x;
                x = self.n(x).left;
            } else {
                x = self.n(x).right;
            }
        }
        best
    }

    /// The first interval starting at or after `key` whose following gap is >= `d`.
    fn first_gap(&self, x: u32, key: f64, d: f64) -> u32 {
        if x == NIL || self.n(x).max_gap < d {
            return NIL;
        }
        if self.n(x).start < key {
            return self.first_gap(self.n(x).right, key, d);
        }
        let l = self.first_gap(self.n(x).left, key, d);
        if l != NIL {
            return l;
        }
        if self.n(x).gap >= d {
            return x;
        }
        self.first_gap(self.n(x).right, key, d)
    }

    /// The earliest start `s >= ready` such that `[s, s + dur)` is idle.
    pub fn earliest(&self, ready: f64, dur: f64) -> f64 {
        let p = self.pred(ready, false);
        let s0 = if p == NIL {
            ready
        } else {
            ready.max(self.n(p).end)
        };
        let nx = self.succ(ready);
        if nx == NIL || self.n(nx).start - s0 >= dur {
            return s0;
        }
        // The gap after interval x is idle from x.end; the last interval's gap is infinite.
        let x = self.first_gap(self.root, self.n(nx).start, dur);
        self.n(x).end
    }

    /// Marks `[start, end)` busy with fragment `frag` (empty intervals are ignored).
    pub fn insert(&mut self, start: f64, end: f64, frag: usize) {
        if end <= start {
            return;
        }
        let id = self.nodes.len() as u32;
        let (l, r) = self.split(self.root, start);
        let succ = self.leftmost(r);
        let gap = if succ == NIL {
            f64::INFINITY
        } else {
            self.n(succ).start - end
        };
        self.nodes.push(Node {
            start,
            end,
            frag: frag as u32,
            gap,
            max_gap: gap,
            prio: splitmix(id as u64),
            left: NIL,
            right: NIL,
        });
        if l != NIL {
            let pe = self.n(self.rightmost(l)).end;
            self.set_last_gap(l, start - pe);
        }
        let m = self.merge(l, id);
        self.root = self.merge(m, r);
    }

    /// The fragment whose interval ends exactly at `t` (the device predecessor of a
    /// fragment that had to wait for the device until `t`).
    pub fn ending_at(&self, t: f64) -> Option<usize> {
        let p = self.pred(t, true);
        (p != NIL && self.n(p).end == t).then(|| self.n(p).frag as usize)
    }
}

/// The earliest common idle slot of length `dur` at or after `ready` on every timeline
/// in `members` (a tensor-parallel group occupies all its devices at once).
pub fn common_slot(timelines: &[Timeline], members: &[usize], ready: f64, dur: f64) -> f64 {
    let mut s = ready;
    loop {
        let mut moved = false;
        for &d in members {
            let t = timelines[d].earliest(s, dur);
            if t > s {
                s = t;
                moved = true;
            }
        }
        if !moved {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same search by a linear scan over sorted intervals.
    fn naive(iv: &[(f64, f64)], ready: f64, dur: f64) -> f64 {
        let mut v = iv.to_vec();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut s = ready;
        for &(a, b) in &v {
            if b <= s {
                continue;
            }
            if a - s >= dur {
                return s;
            }
            s = s.max(b);
        }
        s
    }

    #[test]
    fn matches_a_linear_scan() {
        let mut t = Timeline::new();
        let mut iv: Vec<(f64, f64)> = Vec::new();
        let mut x = 7u64;
        for i in 0..2000 {
            x = splitmix(x);
            let ready = (x % 1000) as f64;
            let dur = ((x >> 20) % 7 + 1) as f64;
            let s = t.earliest(ready, dur);
            assert_eq!(s, naive(&iv, ready, dur), "step {i}");
            t.insert(s, s + dur, i);
            iv.push((s, s + dur));
        }
        assert_eq!(t.len(), 2000);
    }

    #[test]
    fn ending_at_finds_the_device_predecessor() {
        let mut t = Timeline::new();
        t.insert(0.0, 2.0, 5);
        t.insert(4.0, 6.0, 9);
        assert_eq!(t.earliest(1.0, 2.0), 2.0);
        assert_eq!(t.earliest(1.0, 3.0), 6.0);
        assert_eq!(t.ending_at(6.0), Some(9));
        assert_eq!(t.ending_at(5.0), None);
    }

    #[test]
    fn common_slot_aligns_two_devices() {
        let mut a = Timeline::new();
        let mut b = Timeline::new();
        a.insert(0.0, 1.0, 0);
        b.insert(1.0, 3.0, 1);
        a.insert(3.5, 4.0, 2);
        let tl = vec![a, b];
        assert_eq!(common_slot(&tl, &[0, 1], 0.0, 1.0), 4.0);
        assert_eq!(common_slot(&tl, &[0, 1], 0.0, 0.5), 3.0);
    }
}
