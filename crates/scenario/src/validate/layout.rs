//! `topology.database_layouts`: expands each layout into ordinary databases (appended
//! after `topology.databases`, in order) before the rest of validation sees them. The
//! placement rule is documented on [`LayoutSpec`]; errors name the layout's fields.

use std::collections::BTreeMap;

use super::{Issue, Validator, limits, lookup};
use crate::spec::{CopySpec, DatabaseSpec, LayoutSpec, TopologySpec};

/// Where generated databases came from, to give their problems a path in the file.
#[derive(Debug, Default)]
pub(super) struct Origins {
    /// Databases written out (the generated ones follow).
    explicit: usize,
    /// The layout index of each generated database.
    layout: Vec<usize>,
}

impl Origins {
    /// Rewrites `topology.databases[i]...` of a generated database to its layout.
    pub(super) fn relocate(&self, issue: &mut Issue, names: &[String]) {
        let Some(rest) = issue.path.strip_prefix("topology.databases[") else {
            return;
        };
        let Some((idx, tail)) = rest.split_once(']') else {
            return;
        };
        let Some(i) = idx.parse::<usize>().ok().filter(|&i| i >= self.explicit) else {
            return;
        };
        if let Some(k) = self.layout.get(i - self.explicit) {
            let name = names.get(i).map_or("", String::as_str);
            issue.path = format!("topology.database_layouts[{k}]{tail}");
            issue.message = format!("database {name:?}: {}", issue.message);
        }
    }
}

/// A name pattern: prefix, zero-padded width, suffix.
struct Pattern<'a>(&'a str, usize, &'a str);

impl Pattern<'_> {
    fn name(&self, n: u64) -> String {
        format!("{}{n:0w$}{}", self.0, self.2, w = self.1)
    }
}

/// `DB{:02}` → ("DB", 2, ""); exactly one `{}` or `{:0N}` (N from 1 to 9).
fn pattern(p: &str) -> Result<Pattern<'_>, String> {
    let bad = || {
        format!(
            "name {p:?} needs exactly one number placeholder: {{}} or a zero-padded {{:02}} \
             (e.g. \"DB{{:02}}\")"
        )
    };
    let (pre, rest) = p.split_once('{').ok_or_else(bad)?;
    let (spec, post) = rest.split_once('}').ok_or_else(bad)?;
    if post.contains(['{', '}']) || pre.contains('}') {
        return Err(bad());
    }
    let width = match spec.strip_prefix(":0") {
        None if spec.is_empty() => 0,
        Some(w) if w.len() == 1 => w.parse::<usize>().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    Ok(Pattern(pre, width, post))
}

/// Rule `layout.placement`: how many of a database's copies each site group holds.
/// One copy at a time to each group in turn that still has a free server, so the
/// copies are shared as evenly as the groups allow, the first groups taking the extra.
pub(crate) fn quotas(group_sizes: &[usize], copies: usize) -> Vec<usize> {
    let mut q = vec![0; group_sizes.len()];
    let mut left = copies;
    while left > 0 {
        let before = left;
        for (g, &n) in group_sizes.iter().enumerate() {
            if left > 0 && q[g] < n {
                q[g] += 1;
                left -= 1;
            }
        }
        if left == before {
            break;
        }
    }
    q
}

/// Rule `layout.placement`: the servers of database `i`'s copies, most preferred
/// first: in each site group in turn, `quota` servers from position `i` on (wrapping).
pub(crate) fn placement(groups: &[Vec<String>], quotas: &[usize], i: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (g, &q) in groups.iter().zip(quotas) {
        for k in 0..q {
            out.push(g[(i + k) % g.len()].clone());
        }
    }
    out
}

impl Validator {
    /// Expands every layout into `t.databases`. Problems are issues at the layout's
    /// fields; nothing is generated from a layout with problems.
    pub(super) fn expand_layouts(&mut self, t: &mut TopologySpec) -> Origins {
        let mut origins = Origins {
            explicit: t.databases.len(),
            layout: Vec::new(),
        };
        let layouts = std::mem::take(&mut t.database_layouts);
        let mut owner: BTreeMap<String, String> = t
            .databases
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), format!("topology.databases[{i}]")))
            .collect();
        let mut total = t.databases.len() as u64;
        for (k, l) in layouts.iter().enumerate() {
            let path = format!("topology.database_layouts[{k}]");
            total += u64::from(l.count);
            if total > limits::DATABASES as u64 {
                self.err(
                    format!("{path}.count"),
                    format!(
                        "{total} databases in all is more than the limit of {}",
                        limits::DATABASES
                    ),
                );
                break;
            }
            let Some(dbs) = self.layout(&path, l, t) else {
                continue;
            };
            if let Some((name, other)) = dbs
                .iter()
                .find_map(|d| owner.get(&d.name).map(|o| (d.name.clone(), o.clone())))
            {
                self.err(
                    format!("{path}.name"),
                    format!("generates {name:?}, a name already used by {other}"),
                );
                continue;
            }
            owner.extend(dbs.iter().map(|d| (d.name.clone(), path.clone())));
            origins.layout.extend(std::iter::repeat_n(k, dbs.len()));
            t.databases.extend(dbs);
        }
        origins
    }

    /// One layout's databases, or `None` after reporting its problems.
    fn layout(
        &mut self,
        path: &str,
        l: &LayoutSpec,
        t: &TopologySpec,
    ) -> Option<Vec<DatabaseSpec>> {
        let before = self.issues.len();
        if l.count == 0 {
            self.err(format!("{path}.count"), "at least 1 database");
        }
        let pat = pattern(&l.name)
            .map_err(|m| self.err(format!("{path}.name"), m))
            .ok();
        let mailboxes = self.layout_mailboxes(path, l);
        let size_mb = l.size.mb();
        if size_mb == 0 || size_mb > limits::DB_SIZE_MB {
            self.err(
                format!("{path}.size"),
                "more than zero and at most the supported maximum of 16TB (e.g. \"200GB\")",
            );
        }
        let groups = self.layout_groups(path, l, t);
        let lag = self.layout_lag(path, l);
        if self.issues.len() > before {
            return None;
        }
        let (pat, groups) = (pat?, groups?);
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        let quotas = quotas(&sizes, l.copies as usize);
        let dbs = (0..l.count as usize)
            .map(|i| {
                let servers = placement(&groups, &quotas, i);
                let lagged_from = servers.len() - lag.map_or(0, |(n, _)| n as usize);
                DatabaseSpec {
                    name: pat.name(u64::from(l.first) + i as u64),
                    size: l.size,
                    mailboxes: mailboxes(i),
                    copies: servers
                        .into_iter()
                        .enumerate()
                        .map(|(j, server)| CopySpec {
                            server,
                            preference: None,
                            replay_lag: lag.filter(|_| j >= lagged_from).map(|(_, d)| d),
                        })
                        .collect(),
                    circular_logging: l.circular_logging,
                }
            })
            .collect();
        Some(dbs)
    }

    /// Mailboxes of database `i`: `mailboxes` each, or `users` spread evenly (the first
    /// `users % count` take one more).
    fn layout_mailboxes(&mut self, path: &str, l: &LayoutSpec) -> impl Fn(usize) -> u64 + use<> {
        let count = u64::from(l.count.max(1));
        let (each, extra) = match (l.mailboxes, l.users) {
            (Some(m), None) => (m, 0),
            (None, Some(u)) => (u / count, u % count),
            _ => {
                self.err(
                    path.to_owned(),
                    "give `mailboxes` (each database's) or `users` (spread over the databases), one of them",
                );
                (1, 0)
            }
        };
        let most = each + u64::from(extra > 0);
        if each == 0 || most > limits::MAILBOXES_PER_DB {
            let field = if l.users.is_some() {
                "users"
            } else {
                "mailboxes"
            };
            self.err(
                format!("{path}.{field}"),
                format!(
                    "each database needs between 1 and {} mailboxes (this gives {each})",
                    limits::MAILBOXES_PER_DB
                ),
            );
        }
        move |i| each + u64::from((i as u64) < extra)
    }

    /// The layout's servers grouped by site, in the order listed; checks `copies`.
    fn layout_groups(
        &mut self,
        path: &str,
        l: &LayoutSpec,
        t: &TopologySpec,
    ) -> Option<Vec<Vec<String>>> {
        let names: Vec<String> = t.servers.iter().map(|x| x.name.clone()).collect();
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        let mut ok = true;
        for (j, sv) in l.servers.iter().enumerate() {
            let sp = format!("{path}.servers[{j}]");
            let Ok(id) = lookup::<usize>(&names, sv, "server").map_err(|m| self.err(&sp, m)) else {
                ok = false;
                continue;
            };
            if l.servers[..j].contains(sv) {
                self.err(sp, format!("{sv:?} is listed twice"));
                ok = false;
                continue;
            }
            let site = &t.servers[id].site;
            match groups.iter_mut().find(|(s, _)| s == site) {
                Some((_, g)) => g.push(sv.clone()),
                None => groups.push((site.clone(), vec![sv.clone()])),
            }
        }
        if l.copies == 0 || l.copies as usize > l.servers.len() {
            self.err(
                format!("{path}.copies"),
                format!(
                    "between 1 and the number of servers listed ({}): each copy is on its own server",
                    l.servers.len()
                ),
            );
            ok = false;
        }
        ok.then(|| groups.into_iter().map(|(_, g)| g).collect())
    }

    /// `lagged`: how many copies and their lag, checked.
    fn layout_lag(
        &mut self,
        path: &str,
        l: &LayoutSpec,
    ) -> Option<(u32, dialtone_engine::SimDuration)> {
        let lag = l.lagged.as_ref()?;
        if lag.copies == 0 || lag.copies >= l.copies {
            self.err(
                format!("{path}.lagged.copies"),
                format!(
                    "between 1 and {} (fewer than `copies`: the active copy is never lagged; omit `lagged` for none)",
                    l.copies.saturating_sub(1)
                ),
            );
        }
        let max = dialtone_engine::SimDuration::from_days(limits::LAG_DAYS)
            .unwrap_or(dialtone_engine::SimDuration::MAX);
        if lag.replay_lag.is_zero() || lag.replay_lag > max {
            self.err(
                format!("{path}.lagged.replay_lag"),
                "longer than zero and at most 14 days",
            );
        }
        Some((lag.copies, lag.replay_lag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_shared_over_sites_as_their_servers_allow() {
        assert_eq!(quotas(&[3, 3], 3), [2, 1]);
        assert_eq!(quotas(&[2, 2], 4), [2, 2]);
        assert_eq!(quotas(&[4, 1], 4), [3, 1]);
        assert_eq!(quotas(&[1, 1, 1], 2), [1, 1, 0]);
        assert_eq!(quotas(&[6], 3), [3]);
    }

    #[test]
    fn name_patterns_take_one_placeholder() {
        let p = |s: &str, n| pattern(s).map(|p| p.name(n));
        assert_eq!(p("DB{:02}", 7), Ok("DB07".into()));
        assert_eq!(p("db{}", 12), Ok("db12".into()));
        assert_eq!(p("{:03}-mail", 5), Ok("005-mail".into()));
        for bad in ["DB", "DB{", "DB{x}", "D{}B{}", "DB{:2}", "DB{:010}", "}{}"] {
            assert!(p(bad, 1).is_err(), "{bad}");
        }
    }
}
