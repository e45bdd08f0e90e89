//! Randomized model test: random operations on an arena with two adapters,
//! three plain lists and one `KeyedLists`, mirrored in a trivial model
//! (`VecDeque` per list, `HashMap` per key) and compared after every step.

use std::collections::{HashMap, VecDeque};

use hrs_list::{list_adapter, Arena, Handle, KeyedLists, Link, ListHead};

struct Obj {
    v: u64,
    a: Link<Obj>,
    b: Link<Obj>,
}
list_adapter! {
    LA = Obj { a };
    LB = Obj { b };
}

type H = Handle<Obj>;

/// xorshift64* PRNG, deterministic per seed.
struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Where an object is linked through adapter B.
#[derive(Clone, Copy, PartialEq, Debug)]
enum BPos {
    Plain,
    Key(u64),
}

const MAX_LIVE: usize = 12;
const KEYS: u64 = 4;

struct World {
    ar: Arena<Obj>,
    la: [ListHead<Obj, LA>; 2],
    lb: ListHead<Obj, LB>,
    kl: KeyedLists<u64, Obj, LB>,
    // model
    ma: [VecDeque<H>; 2],
    mb: VecDeque<H>,
    mk: HashMap<u64, VecDeque<H>>,
    vals: HashMap<H, u64>,
    live: Vec<H>,
    stale: Vec<H>,
    next_v: u64,
}

fn del(q: &mut VecDeque<H>, h: H) -> bool {
    match q.iter().position(|&x| x == h) {
        Some(i) => {
            q.remove(i);
            true
        }
        None => false,
    }
}

impl World {
    fn new() -> Self {
        World {
            ar: Arena::new(),
            la: [ListHead::new(), ListHead::new()],
            lb: ListHead::new(),
            kl: KeyedLists::new(),
            ma: [VecDeque::new(), VecDeque::new()],
            mb: VecDeque::new(),
            mk: HashMap::new(),
            vals: HashMap::new(),
            live: Vec::new(),
            stale: Vec::new(),
            next_v: 0,
        }
    }

    fn a_pos(&self, h: H) -> Option<usize> {
        (0..2).find(|&i| self.ma[i].contains(&h))
    }

    fn b_pos(&self, h: H) -> Option<BPos> {
        if self.mb.contains(&h) {
            return Some(BPos::Plain);
        }
        self.mk
            .iter()
            .find(|(_, q)| q.contains(&h))
            .map(|(&k, _)| BPos::Key(k))
    }

    fn mk_del(&mut self, k: u64, h: H) -> bool {
        let q = self.mk.get_mut(&k).unwrap();
        let r = del(q, h);
        if q.is_empty() {
            self.mk.remove(&k);
        }
        r
    }

    fn pick_live(&mut self, rng: &mut Rng) -> Option<H> {
        (!self.live.is_empty()).then(|| self.live[rng.below(self.live.len())])
    }

    /// Unlinks `h` from its A list (per model), checking the result.
    fn unlink_a(&mut self, h: H) {
        if let Some(i) = self.a_pos(h) {
            assert!(self.la[i].unlink(&mut self.ar, h));
            assert!(del(&mut self.ma[i], h));
        }
    }

    fn unlink_b(&mut self, h: H) {
        match self.b_pos(h) {
            Some(BPos::Plain) => {
                assert!(self.lb.unlink(&mut self.ar, h));
                assert!(del(&mut self.mb, h));
            }
            Some(BPos::Key(k)) => {
                assert!(self.kl.unlink(&mut self.ar, k, h));
                assert!(self.mk_del(k, h));
            }
            None => {}
        }
    }

    fn destroy(&mut self, h: H) {
        self.unlink_a(h);
        self.unlink_b(h);
        let o = self.ar.remove(h).expect("live object");
        assert!(!o.a.is_linked() && !o.b.is_linked());
        assert_eq!(Some(o.v), self.vals.remove(&h));
        self.live.retain(|&x| x != h);
        self.stale.push(h);
        if self.stale.len() > 24 {
            self.stale.remove(0);
        }
    }

    fn step(&mut self, rng: &mut Rng) {
        match rng.below(14) {
            // insert
            0 | 1 => {
                if self.live.len() < MAX_LIVE {
                    let v = self.next_v;
                    self.next_v += 1;
                    let h = if rng.chance(2) {
                        self.ar.insert(Obj {
                            v,
                            a: Link::new(),
                            b: Link::new(),
                        })
                    } else {
                        self.ar.insert_with(|_| Obj {
                            v,
                            a: Link::new(),
                            b: Link::new(),
                        })
                    };
                    assert!(!self.stale.contains(&h), "new handle equals a stale one");
                    self.vals.insert(h, v);
                    self.live.push(h);
                }
            }
            // remove from arena (after unlinking everywhere)
            2 => {
                if let Some(h) = self.pick_live(rng) {
                    self.destroy(h);
                }
            }
            // push into an A list
            3 | 4 => {
                if let Some(h) = self.pick_live(rng) {
                    if self.a_pos(h).is_none() {
                        let i = rng.below(2);
                        if rng.chance(2) {
                            self.la[i].push_front(&mut self.ar, h);
                            self.ma[i].push_front(h);
                        } else {
                            self.la[i].push_back(&mut self.ar, h);
                            self.ma[i].push_back(h);
                        }
                    }
                }
            }
            // push into the plain B list or a keyed list
            5 | 6 => {
                if let Some(h) = self.pick_live(rng) {
                    if self.b_pos(h).is_none() {
                        let front = rng.chance(2);
                        if rng.chance(3) {
                            if front {
                                self.lb.push_front(&mut self.ar, h);
                                self.mb.push_front(h);
                            } else {
                                self.lb.push_back(&mut self.ar, h);
                                self.mb.push_back(h);
                            }
                        } else {
                            let k = rng.next() % KEYS;
                            let q = self.mk.entry(k).or_default();
                            if front {
                                self.kl.push_front(&mut self.ar, k, h);
                                q.push_front(h);
                            } else {
                                self.kl.push_back(&mut self.ar, k, h);
                                q.push_back(h);
                            }
                        }
                    }
                }
            }
            // unlink (possibly a non-member: must be a no-op returning false)
            7 => {
                if let Some(h) = self.pick_live(rng) {
                    if rng.chance(2) {
                        let i = self.a_pos(h).unwrap_or_else(|| rng.below(2));
                        let expect = del(&mut self.ma[i], h);
                        assert_eq!(self.la[i].unlink(&mut self.ar, h), expect);
                    } else {
                        match self.b_pos(h) {
                            Some(BPos::Key(k)) => {
                                assert!(self.kl.unlink(&mut self.ar, k, h));
                                assert!(self.mk_del(k, h));
                            }
                            Some(BPos::Plain) => {
                                assert!(self.lb.unlink(&mut self.ar, h));
                                assert!(del(&mut self.mb, h));
                            }
                            None => {
                                assert!(!self.lb.unlink(&mut self.ar, h));
                                assert!(!self.kl.unlink(&mut self.ar, rng.next() % KEYS, h));
                            }
                        }
                    }
                }
            }
            // pops
            8 => match rng.below(3) {
                0 | 1 => {
                    let i = rng.below(2);
                    if rng.chance(2) {
                        assert_eq!(self.la[i].pop_front(&mut self.ar), self.ma[i].pop_front());
                    } else {
                        assert_eq!(self.la[i].pop_back(&mut self.ar), self.ma[i].pop_back());
                    }
                }
                _ => {
                    let k = rng.next() % KEYS;
                    let back = rng.chance(2);
                    let got = if back {
                        self.kl.pop_back(&mut self.ar, k)
                    } else {
                        self.kl.pop_front(&mut self.ar, k)
                    };
                    let exp = self.mk.get_mut(&k).and_then(|q| {
                        if back {
                            q.pop_back()
                        } else {
                            q.pop_front()
                        }
                    });
                    if self.mk.get(&k).is_some_and(|q| q.is_empty()) {
                        self.mk.remove(&k);
                    }
                    assert_eq!(got, exp);
                }
            },
            // insert_after / insert_before a member of an A list
            9 => {
                let i = rng.below(2);
                if let (false, Some(h)) = (self.ma[i].is_empty(), self.pick_live(rng)) {
                    if self.a_pos(h).is_none() {
                        let p = rng.below(self.ma[i].len());
                        let at = self.ma[i][p];
                        if rng.chance(2) {
                            self.la[i].insert_after(&mut self.ar, at, h);
                            self.ma[i].insert(p + 1, h);
                        } else {
                            self.la[i].insert_before(&mut self.ar, at, h);
                            self.ma[i].insert(p, h);
                        }
                    }
                }
            }
            // cursor sweep with removal of the current element
            10 => self.sweep(rng),
            // append L1 to L0 (or the reverse), rarely clear
            11 => {
                let (x, y) = if rng.chance(2) { (0, 1) } else { (1, 0) };
                if rng.chance(4) {
                    self.la[x].clear(&mut self.ar);
                    self.ma[x].clear();
                } else {
                    let [l0, l1] = &mut self.la;
                    if x == 0 {
                        l0.append(&mut self.ar, l1);
                    } else {
                        l1.append(&mut self.ar, l0);
                    }
                    let moved: Vec<H> = self.ma[y].drain(..).collect();
                    self.ma[x].extend(moved);
                }
            }
            // next / prev / contains against the model
            12 => {
                if let Some(h) = self.pick_live(rng) {
                    for i in 0..2 {
                        let q = &self.ma[i];
                        let p = q.iter().position(|&x| x == h);
                        let exp_next = p.and_then(|p| q.get(p + 1).copied());
                        let exp_prev = p.and_then(|p| p.checked_sub(1)).map(|p| q[p]);
                        assert_eq!(self.la[i].next(&self.ar, h), exp_next);
                        assert_eq!(self.la[i].prev(&self.ar, h), exp_prev);
                        assert_eq!(self.la[i].contains(&self.ar, h), p.is_some());
                    }
                    let bp = self.b_pos(h);
                    assert_eq!(self.lb.contains(&self.ar, h), bp == Some(BPos::Plain));
                    for k in 0..KEYS {
                        assert_eq!(self.kl.contains(&self.ar, &k, h), bp == Some(BPos::Key(k)));
                    }
                }
            }
            // stale handles are rejected by every operation
            _ => {
                if !self.stale.is_empty() {
                    let s = self.stale[rng.below(self.stale.len())];
                    for i in 0..2 {
                        assert!(!self.la[i].unlink(&mut self.ar, s));
                        assert_eq!(self.la[i].next(&self.ar, s), None);
                    }
                    assert!(!self.lb.unlink(&mut self.ar, s));
                    assert!(!self.kl.unlink(&mut self.ar, rng.next() % KEYS, s));
                    assert!(self.ar.remove(s).is_none());
                    assert!(self.ar.get_mut(s).is_none());
                }
            }
        }
    }

    fn sweep(&mut self, rng: &mut Rng) {
        let which = rng.below(4); // 0,1: A lists, 2: plain B, 3: keyed
        let key = rng.next() % KEYS;
        let rev = rng.chance(2);
        let snapshot = match which {
            0 | 1 => self.ma[which].clone(),
            2 => self.mb.clone(),
            _ => match self.mk.get(&key) {
                Some(q) => q.clone(),
                None => return,
            },
        };
        let mut expect: Vec<H> = snapshot.into_iter().collect();
        if rev {
            expect.reverse();
        }
        let mut seen = Vec::new();
        let mode = rng.below(3); // 0: remove all, 1: alternate, 2: random
        macro_rules! run {
            ($c:expr) => {{
                let mut c = $c;
                while let Some(h) = c.next(&self.ar) {
                    let n = seen.len();
                    seen.push(h);
                    let kill = match mode {
                        0 => true,
                        1 => n % 2 == 0,
                        _ => rng.chance(3),
                    };
                    if kill {
                        if rng.chance(2) {
                            self.destroy(h);
                        } else if which < 2 {
                            self.unlink_a(h);
                        } else {
                            self.unlink_b(h);
                        }
                    }
                }
            }};
        }
        match which {
            0 | 1 => run!(if rev {
                self.la[which].cursor_rev()
            } else {
                self.la[which].cursor()
            }),
            2 => run!(if rev {
                self.lb.cursor_rev()
            } else {
                self.lb.cursor()
            }),
            _ => {
                let l = self.kl.get(&key).unwrap();
                run!(if rev { l.cursor_rev() } else { l.cursor() })
            }
        }
        assert_eq!(seen, expect, "cursor visit order");
    }

    fn check(&self) {
        for i in 0..2 {
            self.la[i].check_invariants(&self.ar).unwrap();
            let got: Vec<H> = self.la[i].iter(&self.ar).collect();
            assert_eq!(got, Vec::from(self.ma[i].clone()), "list A{i}");
            let rev: Vec<H> = self.la[i].iter(&self.ar).rev().collect();
            assert!(rev.iter().eq(self.ma[i].iter().rev()));
            assert_eq!(self.la[i].first(), self.ma[i].front().copied());
            assert_eq!(self.la[i].last(), self.ma[i].back().copied());
        }
        self.lb.check_invariants(&self.ar).unwrap();
        assert!(self.lb.iter(&self.ar).eq(self.mb.iter().copied()), "list B");
        assert!(self
            .lb
            .iter(&self.ar)
            .rev()
            .eq(self.mb.iter().rev().copied()));

        self.kl.check_invariants(&self.ar).unwrap();
        let mut keys: Vec<u64> = self.kl.keys().collect();
        keys.sort_unstable();
        let mut mkeys: Vec<u64> = self.mk.keys().copied().collect();
        mkeys.sort_unstable();
        assert_eq!(
            keys, mkeys,
            "keyed lists: keys (empty heads must be dropped)"
        );
        assert_eq!(
            self.kl.len(),
            self.mk.values().map(VecDeque::len).sum::<usize>()
        );
        for (k, q) in &self.mk {
            assert!(!q.is_empty());
            assert_eq!(self.kl.len_of(k), q.len());
            assert!(
                self.kl.iter_of(&self.ar, k).eq(q.iter().copied()),
                "key {k}"
            );
            assert_eq!(self.kl.first(k), q.front().copied());
            assert_eq!(self.kl.last(k), q.back().copied());
        }

        assert_eq!(self.ar.len(), self.live.len());
        for &h in &self.live {
            let o = &self.ar[h];
            assert_eq!(o.v, self.vals[&h]);
            assert_eq!(o.a.is_linked(), self.a_pos(h).is_some());
            assert_eq!(o.b.is_linked(), self.b_pos(h).is_some());
        }
        for &s in &self.stale {
            assert!(
                self.ar.get(s).is_none() && !self.ar.contains(s),
                "stale {s:?} resolved"
            );
            assert!(!self.la[0].contains(&self.ar, s) && !self.la[1].contains(&self.ar, s));
            assert!(!self.lb.contains(&self.ar, s));
        }
    }
}

fn run(seed: u64, steps: usize) -> World {
    let mut rng = Rng::new(seed);
    let mut w = World::new();
    for step in 0..steps {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            w.step(&mut rng);
            w.check();
        }));
        if let Err(e) = r {
            eprintln!("seed {seed} failed at step {step}");
            std::panic::resume_unwind(e);
        }
    }
    w
}

#[test]
fn randomized_against_model() {
    let mut reused = 0;
    for seed in [1, 2, 3, 0xdead_beef, 0x1234_5678_9abc] {
        let w = run(seed, 20_000);
        // The run must have exercised slot reuse and stale handles.
        assert!(w.next_v > 1000, "too few inserts");
        reused += w
            .stale
            .iter()
            .filter(|s| w.live.iter().any(|l| l.idx() == s.idx()))
            .count();
        // Tear down: unlink everything, then the arena can be emptied.
        let mut w = w;
        for h in w.live.clone() {
            w.destroy(h);
        }
        w.check();
        assert!(w.ar.is_empty() && w.kl.is_empty() && w.lb.is_empty());
    }
    assert!(
        reused > 0,
        "no stale handle shared a slot with a live object"
    );
}
