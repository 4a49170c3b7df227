//! The step graph: one node per (flattened) step; edges from `DependsOn`, from data references
//! (`Get Steps.X...`, `Std:JsonGet` property files) and from a ConditionStep to its branch steps.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::{BTreeSet, VecDeque};

use super::definition::Branch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    DependsOn,
    Data,
    Branch(Branch),
}

/// Node `i` is flat step `i`.
#[derive(Debug, Clone, Default)]
pub struct Dag {
    pub graph: DiGraph<usize, EdgeKind>,
}

impl Dag {
    pub fn with_nodes(n: usize) -> Self {
        let mut graph = DiGraph::with_capacity(n, n * 2);
        for i in 0..n {
            graph.add_node(i);
        }
        Dag { graph }
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Add `from -> to` unless that exact edge kind is already there.
    pub fn add_edge(&mut self, from: usize, to: usize, kind: EdgeKind) {
        let (a, b) = (NodeIndex::new(from), NodeIndex::new(to));
        if !self.graph.edges_connecting(a, b).any(|e| *e.weight() == kind) {
            self.graph.add_edge(a, b, kind);
        }
    }

    pub fn parents(&self, i: usize) -> BTreeSet<usize> {
        self.graph
            .neighbors_directed(NodeIndex::new(i), Direction::Incoming)
            .map(NodeIndex::index)
            .collect()
    }

    pub fn children(&self, i: usize) -> BTreeSet<usize> {
        self.graph
            .neighbors_directed(NodeIndex::new(i), Direction::Outgoing)
            .map(NodeIndex::index)
            .collect()
    }

    /// Incoming edges with their kind.
    pub fn incoming(&self, i: usize) -> Vec<(usize, EdgeKind)> {
        self.graph
            .edges_directed(NodeIndex::new(i), Direction::Incoming)
            .map(|e| (e.source().index(), *e.weight()))
            .collect()
    }

    fn reach(&self, starts: &[usize], dir: Direction) -> BTreeSet<usize> {
        // A visited vector, not a set: indices are dense and big pipelines walk this a lot.
        let mut seen = vec![false; self.graph.node_count()];
        let mut queue: VecDeque<usize> = starts.iter().copied().collect();
        while let Some(i) = queue.pop_front() {
            for n in self.graph.neighbors_directed(NodeIndex::new(i), dir) {
                if !seen[n.index()] {
                    seen[n.index()] = true;
                    queue.push_back(n.index());
                }
            }
        }
        seen.iter().enumerate().filter_map(|(i, &s)| s.then_some(i)).collect()
    }

    /// All steps reachable from `starts` (not including them unless on a cycle).
    pub fn descendants(&self, starts: &[usize]) -> BTreeSet<usize> {
        self.reach(starts, Direction::Outgoing)
    }

    pub fn ancestors(&self, starts: &[usize]) -> BTreeSet<usize> {
        self.reach(starts, Direction::Incoming)
    }

    /// Groups of steps that form cycles (strongly connected components of size > 1, or a step
    /// that depends on itself), each sorted by index.
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1 || self.graph.contains_edge(scc[0], scc[0]))
            .map(|scc| {
                let mut v: Vec<usize> = scc.into_iter().map(NodeIndex::index).collect();
                v.sort_unstable();
                v
            })
            .collect();
        out.sort();
        out
    }

    /// A topological order that keeps definition order among independent steps (Kahn's
    /// algorithm with a min-heap), or `None` if there is a cycle.
    pub fn topological_order(&self) -> Option<Vec<usize>> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let n = self.len();
        let mut indegree: Vec<usize> = (0..n)
            .map(|i| {
                self.graph
                    .neighbors_directed(NodeIndex::new(i), Direction::Incoming)
                    .count()
            })
            .collect();
        let mut heap: BinaryHeap<Reverse<usize>> = (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse(i)) = heap.pop() {
            order.push(i);
            for c in self.graph.neighbors_directed(NodeIndex::new(i), Direction::Outgoing) {
                let c = c.index();
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    heap.push(Reverse(c));
                }
            }
        }
        (order.len() == n).then_some(order)
    }

    /// One path `from -> ... -> to` (BFS, shortest), if any.
    pub fn path(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        let mut prev = vec![usize::MAX; self.len()];
        let mut queue = VecDeque::from([from]);
        let mut seen = BTreeSet::from([from]);
        while let Some(i) = queue.pop_front() {
            if i == to {
                let mut p = vec![to];
                let mut cur = to;
                while cur != from {
                    cur = prev[cur];
                    p.push(cur);
                }
                p.reverse();
                return Some(p);
            }
            for c in self.children(i) {
                if seen.insert(c) {
                    prev[c] = i;
                    queue.push_back(c);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diamond() -> Dag {
        let mut d = Dag::with_nodes(4);
        d.add_edge(0, 1, EdgeKind::Data);
        d.add_edge(0, 2, EdgeKind::Data);
        d.add_edge(1, 3, EdgeKind::DependsOn);
        d.add_edge(2, 3, EdgeKind::Data);
        d
    }

    #[test]
    fn order_reach_and_paths() {
        let d = diamond();
        assert_eq!(d.topological_order(), Some(vec![0, 1, 2, 3]));
        assert_eq!(d.descendants(&[1]), BTreeSet::from([3]));
        assert_eq!(d.ancestors(&[3]), BTreeSet::from([0, 1, 2]));
        assert_eq!(d.path(0, 3), Some(vec![0, 1, 3]));
        assert!(d.cycles().is_empty());
    }

    #[test]
    fn finds_cycles() {
        let mut d = diamond();
        d.add_edge(3, 0, EdgeKind::DependsOn);
        assert_eq!(d.cycles(), vec![vec![0, 1, 2, 3]]);
        assert_eq!(d.topological_order(), None);
    }
}
