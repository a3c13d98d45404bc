//! What `lz apply` shows while it works. On a terminal (stdout and stderr both): a bar of the
//! plan's changes done out of its total, one line per change in flight with its elapsed time,
//! and, while accounts are being created, how many are in flight and waiting and the time left
//! at AWS's pace (five creations at once). Otherwise: one plain line per round and per
//! finished change, for logs. With `--quiet`: nothing.

use std::collections::{BTreeSet, HashMap};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use landing_zone::apply::{CONCURRENT_ACCOUNT_CREATIONS, Event, EventHandler};
use landing_zone::desired::Address;
use landing_zone::plan::Action;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Live bars on stderr, a terminal.
    Bars,
    /// A line per round and per finished change on stdout.
    Lines,
    /// Nothing.
    Quiet,
}

impl Mode {
    /// Bars when both stdout and stderr are a terminal, lines otherwise, nothing when asked
    /// to be quiet. Both: bars go to stderr and the lines that last to stdout, and with stdout
    /// piped (`lz apply | tee log`) the pipe's copy of those lines reaches the terminal at
    /// its own pace and tears the bars; someone reading the log wants the plain lines anyway.
    pub fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Lines
        }
    }
}

/// The handler for apply's events. `accounts` are the account creations the plan holds, whose
/// pace AWS sets.
pub fn handler(mode: Mode, accounts: BTreeSet<Address>) -> Option<EventHandler> {
    match mode {
        Mode::Quiet => None,
        Mode::Lines => Some(Arc::new(|event: &Event| {
            if let Some(line) = line(event) {
                println!("{line}");
            }
        })),
        Mode::Bars => {
            let bars = Bars::new(MultiProgress::new(), accounts);
            Some(Arc::new(move |event: &Event| bars.on(event)))
        }
    }
}

/// The lasting line an event leaves, the same with bars or without.
fn line(event: &Event) -> Option<String> {
    match event {
        Event::Round { number, changes } => Some(format!("Round {number}: {changes} change(s)")),
        Event::Finished { address, action } => {
            Some(format!("{address}: {} complete", noun(*action)))
        }
        Event::Started { .. } | Event::Waiting { .. } => None,
    }
}

fn noun(action: Action) -> &'static str {
    match action {
        Action::Create => "creation",
        Action::Update => "update",
        Action::Adopt => "adoption",
        Action::Delete => "deletion",
        Action::NoOp => "nothing",
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Adopt => "adopting",
        Action::Delete => "deleting",
        Action::NoOp => "checking",
    }
}

struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    accounts: ProgressBar,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: HashMap<Address, ProgressBar>,
    creations: Creations,
}

/// Account creations: planned, in flight, done, and how long the done ones took. An account
/// changed again later (its tags, in another round) is not a creation.
#[derive(Debug, Default)]
struct Creations {
    planned: BTreeSet<Address>,
    running: HashMap<Address, Instant>,
    done: BTreeSet<Address>,
    took: Vec<Duration>,
}

impl Creations {
    fn started(&mut self, address: &Address) {
        if self.planned.contains(address) && !self.done.contains(address) {
            self.running.insert(address.clone(), Instant::now());
        }
    }

    fn finished(&mut self, address: &Address) {
        if let Some(started) = self.running.remove(address) {
            self.took.push(started.elapsed());
            self.done.insert(address.clone());
        }
    }

    /// `Accounts: 3 being created, 4 waiting (AWS creates 5 at once); about 6m left.`
    fn status(&self) -> Option<String> {
        // `done` and `running` are disjoint parts of `planned`.
        let left = self.planned.len().saturating_sub(self.done.len());
        if left == 0 {
            return None;
        }
        let in_flight = self.running.len();
        let waiting = left.saturating_sub(in_flight);
        let time = match remaining(left, &self.took) {
            Some(time) => format!(
                "about {} left",
                humantime::format_duration(Duration::from_secs(time.as_secs()))
            ),
            None => "time left known once one is created".to_owned(),
        };
        Some(format!(
            "Accounts: {in_flight} being created, {waiting} waiting (AWS creates {CONCURRENT_ACCOUNT_CREATIONS} at once); {time}"
        ))
    }
}

/// The time `left` account creations take at AWS's pace, from those that took `took`: they
/// run in waves of [`CONCURRENT_ACCOUNT_CREATIONS`], each as long as the mean so far. `None`
/// before any has finished.
fn remaining(left: usize, took: &[Duration]) -> Option<Duration> {
    if took.is_empty() {
        return None;
    }
    let mean = took.iter().sum::<Duration>() / took.len() as u32;
    let waves = left.div_ceil(CONCURRENT_ACCOUNT_CREATIONS) as u32;
    Some(mean * waves)
}

impl Bars {
    /// Bars drawn by `multi` (stderr, unless a test hides them).
    fn new(multi: MultiProgress, accounts: BTreeSet<Address>) -> Bars {
        let total = multi.add(ProgressBar::new(0));
        total.set_style(style("{spinner} [{pos}/{len}] changes {wide_msg}"));
        total.enable_steady_tick(Duration::from_millis(120));
        let accounts_bar = multi.add(ProgressBar::new_spinner());
        accounts_bar.set_style(style("  {wide_msg}"));
        Bars {
            multi,
            total,
            accounts: accounts_bar,
            state: Mutex::new(State {
                running: HashMap::new(),
                creations: Creations {
                    planned: accounts,
                    ..Creations::default()
                },
            }),
        }
    }

    fn on(&self, event: &Event) {
        let mut state = self.state.lock().expect("not poisoned");
        if let Some(line) = line(event) {
            // Above the bars, where it stays: on stdout, the same terminal, as a run without
            // bars prints it.
            self.multi.suspend(|| println!("{line}"));
        }
        match event {
            // A round counts every change still to make, those a previous round could not
            // reach yet included: the total is what is done and what this round has left.
            Event::Round { changes, .. } => self
                .total
                .set_length(self.total.position() + *changes as u64),
            Event::Started { address, action } => {
                let bar = self
                    .multi
                    .insert_before(&self.accounts, ProgressBar::new_spinner());
                bar.set_style(style("  {spinner} {msg} ({elapsed})"));
                bar.set_message(format!("{} {address}", verb(*action)));
                bar.enable_steady_tick(Duration::from_millis(120));
                state.running.insert(address.clone(), bar);
                state.creations.started(address);
            }
            Event::Waiting { address, message } => match state.running.get(address) {
                Some(bar) => bar.set_message(format!("{address}: {message}")),
                None => self.total.set_message(message.clone()),
            },
            Event::Finished { address, .. } => {
                if let Some(bar) = state.running.remove(address) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.total.inc(1);
                state.creations.finished(address);
            }
        }
        match state.creations.status() {
            Some(status) => self.accounts.set_message(status),
            None => self.accounts.finish_and_clear(),
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.total.finish_and_clear();
        self.accounts.finish_and_clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounds of 53, 29 and 2 changes, as acme's apply runs (a round counts what earlier
    /// ones could not reach yet): the bar ends full at the plan's 53, not at 84.
    #[test]
    fn the_bar_ends_full_after_rounds_that_recount_what_is_left() {
        let bars = Bars::new(
            MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden()),
            BTreeSet::new(),
        );
        let mut n = 0;
        for (number, changes, finished) in [(1, 53, 24), (2, 29, 27), (3, 2, 2)] {
            bars.on(&Event::Round { number, changes });
            assert_eq!(bars.total.length(), Some(53), "round {number}");
            for _ in 0..finished {
                let address = Address::ou(&format!("u{n}"));
                n += 1;
                let action = Action::Create;
                bars.on(&Event::Started {
                    address: address.clone(),
                    action,
                });
                bars.on(&Event::Finished { address, action });
            }
        }
        assert_eq!(bars.total.position(), 53);
    }

    #[test]
    fn time_left_is_waves_of_five_at_the_mean_pace() {
        let took = [Duration::from_secs(200), Duration::from_secs(400)];
        assert_eq!(remaining(0, &took), Some(Duration::ZERO));
        assert_eq!(remaining(5, &took), Some(Duration::from_secs(300)));
        assert_eq!(remaining(6, &took), Some(Duration::from_secs(600)));
        assert_eq!(remaining(3, &[]), None);
    }

    #[test]
    fn the_accounts_line_counts_in_flight_and_waiting_until_none_is_left() {
        let planned: Vec<Address> = (0..7).map(|i| Address::account(&format!("a{i}"))).collect();
        let mut creations = Creations {
            planned: planned.iter().cloned().collect(),
            ..Creations::default()
        };
        for a in &planned[..5] {
            creations.started(a);
        }
        // Not a creation: never counted.
        creations.started(&Address::ou("Dev"));
        assert_eq!(
            creations.status().unwrap(),
            "Accounts: 5 being created, 2 waiting (AWS creates 5 at once); time left known once one is created"
        );
        creations.finished(&planned[0]);
        assert!(
            creations.status().unwrap().starts_with(
                "Accounts: 4 being created, 2 waiting (AWS creates 5 at once); about "
            )
        );
        for a in &planned[5..] {
            creations.started(a);
        }
        for a in &planned {
            creations.finished(a);
        }
        assert_eq!(creations.status(), None);
        // The same account changed again in a later round (its tags): still none left.
        creations.started(&planned[0]);
        creations.finished(&planned[0]);
        assert_eq!(creations.status(), None);
        assert_eq!(creations.took.len(), 7);
    }
}
