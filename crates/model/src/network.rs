//! Sites and WAN links (rule `network.reachability`).
//!
//! Sites are nodes and links are edges of an undirected petgraph graph. A site is up
//! unless it lost power; a link is up unless it was cut (a partition is a set of cut
//! links). Two sites can talk when both are up and a path of up links through up sites
//! joins them: connectivity over what is up, computed with union-find whenever the state
//! changes (sites number in the tens, so this is cheap and exact).

use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::unionfind::UnionFind;

use crate::ids::{LinkId, SiteId};

/// The site graph and what is up in it.
#[derive(Debug, Clone)]
pub struct Network {
    graph: UnGraph<SiteId, LinkId>,
    site_up: Vec<bool>,
    link_up: Vec<bool>,
    /// Component label per site (`None` when the site is down). Recomputed on change.
    component: Vec<Option<u32>>,
}

impl Network {
    /// `sites` sites, all up, joined by `links` (pairs of site indices), all up.
    pub fn new(sites: usize, links: &[(SiteId, SiteId)]) -> Self {
        let mut graph = UnGraph::with_capacity(sites, links.len());
        for i in 0..sites {
            graph.add_node(SiteId::from(i));
        }
        for (i, &(a, b)) in links.iter().enumerate() {
            graph.add_edge(
                NodeIndex::new(a.index()),
                NodeIndex::new(b.index()),
                LinkId::from(i),
            );
        }
        let mut n = Network {
            graph,
            site_up: vec![true; sites],
            link_up: vec![true; links.len()],
            component: vec![None; sites],
        };
        n.recompute();
        n
    }

    /// Number of sites.
    pub fn sites(&self) -> usize {
        self.site_up.len()
    }

    /// Whether a site has power.
    pub fn site_up(&self, s: SiteId) -> bool {
        self.site_up[s.index()]
    }

    /// Whether a link carries traffic.
    pub fn link_up(&self, l: LinkId) -> bool {
        self.link_up[l.index()]
    }

    /// Powers a site off (`false`) or on (`true`).
    pub fn set_site_up(&mut self, s: SiteId, up: bool) {
        if self.site_up[s.index()] != up {
            self.site_up[s.index()] = up;
            self.recompute();
        }
    }

    /// Cuts (`false`) or repairs (`true`) a link.
    pub fn set_link_up(&mut self, l: LinkId, up: bool) {
        if self.link_up[l.index()] != up {
            self.link_up[l.index()] = up;
            self.recompute();
        }
    }

    /// Whether sites `a` and `b` can talk (a site can always talk to itself while up).
    pub fn reachable(&self, a: SiteId, b: SiteId) -> bool {
        match (self.component[a.index()], self.component[b.index()]) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    }

    /// The partition a site belongs to: equal labels mean mutually reachable. `None`
    /// for a site without power. Labels are the smallest site index in the component,
    /// so they are stable and deterministic.
    pub fn component(&self, s: SiteId) -> Option<u32> {
        self.component[s.index()]
    }

    fn recompute(&mut self) {
        let n = self.site_up.len();
        let mut uf = UnionFind::<usize>::new(n);
        for e in self.graph.edge_indices() {
            let link = self.graph[e];
            if !self.link_up[link.index()] {
                continue;
            }
            let Some((a, b)) = self.graph.edge_endpoints(e) else {
                continue;
            };
            if self.site_up[a.index()] && self.site_up[b.index()] {
                uf.union(a.index(), b.index());
            }
        }
        // Label each component by its smallest member index.
        let mut smallest = vec![u32::MAX; n];
        for i in 0..n {
            if self.site_up[i] {
                let r = uf.find(i);
                smallest[r] = smallest[r].min(i as u32);
            }
        }
        for i in 0..n {
            self.component[i] = self.site_up[i].then(|| smallest[uf.find(i)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(i: u32) -> SiteId {
        SiteId(i)
    }

    #[test]
    fn a_two_site_cut_isolates() {
        let mut n = Network::new(2, &[(s(0), s(1))]);
        assert!(n.reachable(s(0), s(1)));
        n.set_link_up(LinkId(0), false);
        assert!(!n.reachable(s(0), s(1)));
        assert!(n.reachable(s(0), s(0)));
        n.set_link_up(LinkId(0), true);
        assert!(n.reachable(s(0), s(1)));
    }

    #[test]
    fn a_triangle_survives_one_cut_but_not_two() {
        let mut n = Network::new(3, &[(s(0), s(1)), (s(1), s(2)), (s(0), s(2))]);
        n.set_link_up(LinkId(0), false);
        assert!(n.reachable(s(0), s(1)), "through site 2");
        n.set_link_up(LinkId(2), false);
        assert!(!n.reachable(s(0), s(1)));
        assert!(n.reachable(s(1), s(2)));
        assert_eq!(n.component(s(1)), Some(1));
        assert_eq!(n.component(s(0)), Some(0));
    }

    #[test]
    fn a_powered_off_site_reaches_nothing_and_does_not_relay() {
        // 0 - 1 - 2 in a line: losing site 1 splits 0 from 2.
        let mut n = Network::new(3, &[(s(0), s(1)), (s(1), s(2))]);
        n.set_site_up(s(1), false);
        assert!(!n.reachable(s(0), s(2)));
        assert!(!n.reachable(s(1), s(1)));
        assert_eq!(n.component(s(1)), None);
        n.set_site_up(s(1), true);
        assert!(n.reachable(s(0), s(2)));
    }
}
