//! Which changes of a round may start: each as soon as everything it depends on in this round
//! is done, not when a whole wave is (a new account's boundary starts when that account
//! exists, not when the last account does). Pure; the round's executor asks it.

use std::collections::{HashMap, VecDeque};

use crate::desired::Kind;
use crate::plan::Change;

/// The two lanes changes run in: account creations wait minutes on AWS, which allows five at
/// once, so they do not take the other changes' `parallelism` slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    /// An account to create.
    Creation,
    /// Everything else.
    Other,
}

/// The round's dependency graph, and what is ready.
#[derive(Debug)]
pub(crate) struct Schedule {
    /// Per change, how many of its dependencies in this round are not done yet.
    waiting_on: Vec<usize>,
    /// Per change, the changes that depend on it.
    dependents: Vec<Vec<usize>>,
    /// Per change, whether it waits for a later round (it needs an id that does not exist
    /// yet, or depends on a change that does).
    deferred: Vec<bool>,
    lanes: Vec<Lane>,
    ready: [VecDeque<usize>; 2],
}

impl Schedule {
    /// The schedule of `steps`, which come in dependency order.
    pub(crate) fn new(steps: &[&Change]) -> Schedule {
        let index: HashMap<_, usize> = steps
            .iter()
            .enumerate()
            .map(|(i, c)| (&c.address, i))
            .collect();
        let n = steps.len();
        let mut waiting_on = vec![0; n];
        let mut dependents = vec![Vec::new(); n];
        let mut deferred = vec![false; n];
        for (i, change) in steps.iter().enumerate() {
            deferred[i] = !change.unknown.is_empty();
            for dep in &change.depends_on {
                if let Some(&j) = index.get(dep) {
                    waiting_on[i] += 1;
                    dependents[j].push(i);
                    deferred[i] |= deferred[j];
                }
            }
        }
        let lanes = steps
            .iter()
            .map(|c| {
                if c.kind == Kind::Account && c.id.is_none() && c.after.is_some() {
                    Lane::Creation
                } else {
                    Lane::Other
                }
            })
            .collect();
        let mut schedule = Schedule {
            waiting_on,
            dependents,
            deferred,
            lanes,
            ready: [VecDeque::new(), VecDeque::new()],
        };
        for i in 0..n {
            schedule.release(i);
        }
        schedule
    }

    /// How many changes wait for a later round.
    pub(crate) fn deferred(&self) -> usize {
        self.deferred.iter().filter(|d| **d).count()
    }

    /// The next ready change of `lane`, in plan order.
    pub(crate) fn next(&mut self, lane: Lane) -> Option<usize> {
        self.ready[lane as usize].pop_front()
    }

    /// Records change `i` as done, making ready what waited only on it.
    pub(crate) fn done(&mut self, i: usize) {
        for d in std::mem::take(&mut self.dependents[i]) {
            self.waiting_on[d] -= 1;
            self.release(d);
        }
    }

    fn release(&mut self, i: usize) {
        if self.waiting_on[i] == 0 && !self.deferred[i] {
            self.ready[self.lanes[i] as usize].push_back(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Address;
    use crate::plan::Action;

    fn change(address: Address, kind: Kind, depends_on: &[&Address], unknown: bool) -> Change {
        Change {
            address: address.clone(),
            kind,
            account: None,
            action: Action::Create,
            id: None,
            before: None,
            after: Some(std::sync::Arc::new(
                crate::desired::Spec::OrganizationalUnit(crate::desired::OuSpec {
                    name: String::new(),
                    tags: Default::default(),
                }),
            )),
            attributes: Vec::new(),
            unknown: if unknown {
                vec![Address::organization()]
            } else {
                vec![]
            },
            depends_on: depends_on.iter().map(|a| (*a).clone()).collect(),
            creating: None,
        }
    }

    #[test]
    fn a_change_starts_when_its_own_dependencies_are_done_not_a_whole_wave() {
        let (a, b) = (Address::account("a"), Address::account("b"));
        let (pa, pb) = (Address::policy("a", "p"), Address::policy("b", "p"));
        let role = Address::role("a", "r");
        let steps = [
            change(a.clone(), Kind::Account, &[], false),
            change(b.clone(), Kind::Account, &[], false),
            change(pa.clone(), Kind::IamPolicy, &[&a], false),
            change(pb.clone(), Kind::IamPolicy, &[&b], false),
            // Needs an id that does not exist yet: next round.
            change(role, Kind::IamRole, &[&a, &pa], true),
        ];
        let steps: Vec<&Change> = steps.iter().collect();
        let mut schedule = Schedule::new(&steps);
        assert_eq!(schedule.deferred(), 1);
        assert_eq!(schedule.next(Lane::Other), None);
        assert_eq!(schedule.next(Lane::Creation), Some(0));
        assert_eq!(schedule.next(Lane::Creation), Some(1));
        schedule.done(0);
        // Account a's policy may start while account b is still being created.
        assert_eq!(schedule.next(Lane::Other), Some(2));
        schedule.done(2);
        assert_eq!(
            schedule.next(Lane::Other),
            None,
            "the deferred role never starts"
        );
        schedule.done(1);
        assert_eq!(schedule.next(Lane::Other), Some(3));
    }
}
