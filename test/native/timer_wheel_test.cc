// deps:
// native/core/timer_wheel.h (header only): scheduling, moving and cancelling timers; a timer never fires before its
// deadline and at most kGranularityMs after it; deadlines more than one wheel turn away; what expire() may do to
// the wheel; next_timeout() as the poll timeout of a loop; and 100k random timers against a std::multimap.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../../native/core/timer_wheel.h"
#include "check.h"

using namespace nova;

namespace {

constexpr uint64_t G = TimerWheel::kGranularityMs;
constexpr uint64_t kTurn = uint64_t(TimerWheel::kSlots) * TimerWheel::kGranularityMs;  // ms per wheel turn

struct Timer : TimerNode {
  int id = 0;
  uint64_t want = UINT64_MAX;  // the deadline the test scheduled
  uint64_t fired_at = UINT64_MAX;
  int fired = 0;
};

// Advances `w` from `*now` to `to` one millisecond at a time, recording when each timer fires.
void step_to(TimerWheel& w, uint64_t* now, uint64_t to) {
  while (*now < to) {
    ++*now;
    const uint64_t t = *now;
    w.advance(t, [&](TimerNode* n) {
      Timer* x = static_cast<Timer*>(n);
      x->fired_at = t;
      ++x->fired;
    });
  }
}

// A timer fired exactly once, never before its deadline and less than kGranularityMs after it.
void check_on_time(const Timer& x, const char* what) {
  CHECK(x.fired == 1, "%s: timer %d fired %d times", what, x.id, x.fired);
  CHECK(x.fired_at >= x.want, "%s: timer %d early: deadline %llu, fired at %llu", what, x.id,
        (unsigned long long)x.want, (unsigned long long)x.fired_at);
  CHECK(x.fired_at < x.want + G, "%s: timer %d late: deadline %llu, fired at %llu", what, x.id,
        (unsigned long long)x.want, (unsigned long long)x.fired_at);
}

void test_schedule_cancel_reschedule() {
  uint64_t now = 1000;
  TimerWheel w(now);
  CHECK(w.size() == 0 && w.next_timeout(now) == -1, "empty wheel");
  Timer a, b, c;
  a.id = 1, b.id = 2, c.id = 3;
  w.schedule(&a, now + 100);
  w.schedule(&b, now + 200);
  w.schedule(&c, now + 300);
  CHECK(w.size() == 3, "size %zu", w.size());
  CHECK(a.linked() && a.deadline == now + 100, "a scheduled");
  w.schedule(&a, now + 100);  // same deadline: no change
  CHECK(w.size() == 3, "same deadline keeps the count: %zu", w.size());
  w.cancel(&b);
  CHECK(!b.linked() && b.deadline == UINT64_MAX && w.size() == 2, "b cancelled");
  w.cancel(&b);  // twice: harmless
  CHECK(w.size() == 2, "second cancel: %zu", w.size());
  w.schedule(&c, now + 50);    // earlier
  w.schedule(&a, now + 400);   // later
  w.schedule(&b, UINT64_MAX);  // "cancel" of an unscheduled timer
  CHECK(w.size() == 2 && !b.linked(), "UINT64_MAX is no timer");
  c.want = now + 50;
  a.want = now + 400;
  step_to(w, &now, 1000 + 120);
  CHECK(c.fired == 1 && a.fired == 0 && b.fired == 0, "only c by +120: a %d b %d c %d", a.fired, b.fired, c.fired);
  check_on_time(c, "moved earlier");
  step_to(w, &now, 1000 + 390);
  CHECK(a.fired == 0, "a moved later must not fire at its old deadline");
  step_to(w, &now, 1000 + 500);
  check_on_time(a, "moved later");
  CHECK(w.size() == 0 && w.next_timeout(now) == -1, "all fired: size %zu", w.size());
  // A fired timer can be scheduled again.
  a.fired = 0;
  a.want = now + 7;
  w.schedule(&a, a.want);
  step_to(w, &now, now + 20);
  check_on_time(a, "rescheduled after firing");
  // Cancelling stops a timer that was due later.
  b.want = now + 30;
  w.schedule(&b, b.want);
  step_to(w, &now, now + 10);
  w.cancel(&b);
  step_to(w, &now, now + 100);
  CHECK(b.fired == 0, "cancelled timer fired");
}

// Every deadline in a range, advanced every millisecond: each fires in [deadline, deadline + kGranularityMs).
void test_every_ms() {
  const uint64_t start = 123457;  // not a multiple of the granularity
  uint64_t now = start;
  TimerWheel w(now);
  std::vector<Timer> ts(3000);
  for (size_t i = 0; i < ts.size(); ++i) {
    ts[i].id = static_cast<int>(i);
    ts[i].want = start + i * 7 + (i % 5);  // spread, every residue mod the granularity
    w.schedule(&ts[i], ts[i].want);
  }
  // Deadlines already due at scheduling time (and now itself) fire at the next advance.
  Timer past, at_now;
  past.id = -1, at_now.id = -2;
  past.want = start - 500;
  at_now.want = start;
  w.schedule(&past, past.want);
  w.schedule(&at_now, at_now.want);
  step_to(w, &now, start + 1);
  CHECK(past.fired == 1 && past.fired_at == start + 1, "past deadline: fired %d at %llu", past.fired,
        (unsigned long long)past.fired_at);
  step_to(w, &now, start + ts.size() * 7 + 50);
  check_on_time(at_now, "deadline == now");
  for (const Timer& t : ts) check_on_time(t, "every ms");
  CHECK(w.size() == 0, "size %zu", w.size());
}

// Deadlines one, several and many turns away, advanced every ms and in jumps.
void test_beyond_one_turn() {
  uint64_t now = 5;
  TimerWheel w(now);
  const uint64_t offs[] = {kTurn - 1, kTurn, kTurn + 1, kTurn + G, 2 * kTurn + 3, 3 * kTurn + 7, 65000, 300000};
  std::vector<Timer> ts(sizeof offs / sizeof offs[0]);
  for (size_t i = 0; i < ts.size(); ++i) {
    ts[i].id = static_cast<int>(i);
    ts[i].want = now + offs[i];
    w.schedule(&ts[i], ts[i].want);
  }
  step_to(w, &now, 5 + 300000 + 10);
  for (const Timer& t : ts) check_on_time(t, "beyond one turn, every ms");

  // The same, advanced in jumps: a timer fires at the first advance at or past its deadline's slot, never before.
  TimerWheel j(now);
  std::vector<Timer> js(ts.size());
  for (size_t i = 0; i < js.size(); ++i) {
    js[i].id = static_cast<int>(i);
    js[i].want = now + offs[i];
    j.schedule(&js[i], js[i].want);
  }
  const uint64_t base = now;
  for (uint64_t at = base + 997; at <= base + 301000; at += 997) {
    j.advance(at, [&](TimerNode* n) {
      Timer* x = static_cast<Timer*>(n);
      ++x->fired;
      x->fired_at = at;
    });
  }
  for (const Timer& t : js) {
    CHECK(t.fired == 1, "jumps: timer %d fired %d times", t.id, t.fired);
    CHECK(t.fired_at >= t.want && t.fired_at < t.want + 997 + G, "jumps: timer %d deadline %llu fired at %llu", t.id,
          (unsigned long long)t.want, (unsigned long long)t.fired_at);
  }

  // A wheel left alone for many turns: one advance fires every due timer and keeps the others.
  TimerWheel z(0);
  Timer early, late;
  early.want = 10;
  late.want = 10 * kTurn + 3;
  z.schedule(&early, early.want);
  z.schedule(&late, late.want);
  int fired = 0;
  z.advance(5 * kTurn, [&](TimerNode* n) {
    ++fired;
    CHECK(n == &early, "after 5 idle turns only the early timer is due");
  });
  CHECK(fired == 1 && z.size() == 1, "idle turns: fired %d, size %zu", fired, z.size());
  uint64_t t = 5 * kTurn;
  step_to(z, &t, 11 * kTurn);
  late.fired_at = late.fired ? late.fired_at : UINT64_MAX;
  check_on_time(late, "late timer after idle turns");
}

// expire() may cancel or reschedule any timer, including others due in the same slot and itself.
void test_expire_may_touch_the_wheel() {
  // Two timers in one slot, both due: the first one's expire() cancels the second.
  {
    TimerWheel w(0);
    Timer a, b;
    a.id = 1, b.id = 2;
    w.schedule(&a, 40);
    w.schedule(&b, 40);
    int calls = 0;
    w.advance(40, [&](TimerNode* n) {
      ++calls;
      if (n == &a) w.cancel(&b);
      if (n == &b) w.cancel(&a);
    });
    CHECK(calls == 1 && w.size() == 0, "expire cancelling a sibling: calls %d size %zu", calls, w.size());
  }
  // A timer that reschedules itself to a deadline already past fires again at the next advance, not in a loop.
  {
    TimerWheel w(0);
    Timer a;
    w.schedule(&a, 8);
    int calls = 0;
    w.advance(8, [&](TimerNode* n) {
      ++calls;
      w.schedule(n, 0);
    });
    CHECK(calls == 1, "self-reschedule into the past: %d calls in one advance", calls);
    w.advance(9, [&](TimerNode*) { ++calls; });
    CHECK(calls == 2 && w.size() == 0, "self-rescheduled timer fires at the next advance: calls %d", calls);
  }
  // While one advance covers many slots, a timer rescheduled by expire() to a deadline that is already due (its
  // slot passed earlier in the same advance) fires in that pass or the next advance, not a wheel turn later.
  {
    TimerWheel w(0);
    Timer a, b;
    a.id = 1, b.id = 2;
    w.schedule(&a, 20);
    w.schedule(&b, 100000);
    int fired_b = 0;
    w.advance(40, [&](TimerNode* n) {
      if (n == &a) w.schedule(&b, 4);
      fired_b += n == &b;  // in this very pass if its new slot comes later in it
    });
    uint64_t now = 40;
    while (now < 40 + 100 && !fired_b) {
      ++now;
      w.advance(now, [&](TimerNode* n) { fired_b += n == &b; });
    }
    CHECK(fired_b == 1 && now <= 40 + G, "rescheduled into a passed slot: fired %d at %llu", fired_b,
          (unsigned long long)now);
  }
  // A timer deleted inside expire() (the evented driver closes a lingering connection there).
  {
    TimerWheel w(0);
    auto* a = new Timer;
    Timer b;
    w.schedule(a, 4);
    w.schedule(&b, 4);
    int calls = 0;
    w.advance(4, [&](TimerNode* n) {
      ++calls;
      if (n == a) delete a;
    });
    CHECK(calls == 2 && w.size() == 0, "deleting inside expire: calls %d", calls);
  }
}

// next_timeout() is the loop's poll timeout: never past the moment the earliest timer would fire, including when
// the loop comes back late (slots passed without an advance), and not 0 (a busy loop) when nothing is due.
void test_next_timeout() {
  {
    uint64_t now = 400;
    TimerWheel w(now);
    Timer a;
    w.schedule(&a, now + 5);
    const int64_t t = w.next_timeout(now);
    CHECK(t >= 0 && now + static_cast<uint64_t>(t) <= now + 5 + G - 1, "next_timeout %lld", (long long)t);
    CHECK(t >= 5, "not earlier than needed: %lld", (long long)t);
    // The loop comes back 20 ms later without having advanced: the timer is overdue.
    CHECK(w.next_timeout(now + 20) == 0, "overdue timer after a late turn: %lld", (long long)w.next_timeout(now + 20));
    CHECK(w.next_timeout(now + 5 + G) == 0, "overdue: %lld", (long long)w.next_timeout(now + 5 + G));
  }
  {
    // Timers more than one turn away: the poll timeout must not be 0 while nothing is due (the loop would spin).
    uint64_t now = 0;
    TimerWheel w(now);
    Timer far;
    far.want = kTurn * 3 + 100;
    w.schedule(&far, far.want);
    int zeros = 0;
    uint64_t first_zero = 0;
    for (now = 1; now < far.want; ++now) {
      w.advance(now, [&](TimerNode*) {});
      const int64_t t = w.next_timeout(now);
      CHECK(t >= 0, "next_timeout -1 with a timer");
      CHECK(now + static_cast<uint64_t>(t) <= far.want + G - 1, "too late at %llu: %lld", (unsigned long long)now,
            (long long)t);
      if (t == 0 && zeros++ == 0) first_zero = now;
    }
    CHECK(zeros == 0, "next_timeout returned 0 %d times while nothing was due (first at %llu, deadline %llu)", zeros,
          (unsigned long long)first_zero, (unsigned long long)far.want);
    CHECK(far.fired == 0 && far.linked(), "far timer still waiting");
  }
}

// 100k timers with random deadlines (past, near, beyond a turn), random moves and cancels, random advances (small
// steps and jumps), checked against a multimap after every operation batch.
void test_random_against_reference() {
  std::mt19937_64 rng(20240601);
  auto rnd = [&](uint64_t n) { return n ? rng() % n : 0; };
  const size_t kTimers = 100000;
  std::vector<std::unique_ptr<Timer>> ts(kTimers);
  uint64_t now = 77777;
  TimerWheel w(now);
  std::multimap<uint64_t, int> ref;  // deadline -> id, live timers
  std::vector<std::multimap<uint64_t, int>::iterator> where(kTimers);
  std::vector<bool> live(kTimers, false);
  for (size_t i = 0; i < kTimers; ++i) {
    ts[i] = std::make_unique<Timer>();
    ts[i]->id = static_cast<int>(i);
  }
  auto pick_deadline = [&]() -> uint64_t {
    switch (rnd(10)) {
      case 0: return now > 50 ? now - rnd(50) : now;  // already due
      case 1: return now + kTurn + rnd(3 * kTurn);    // beyond one turn
      case 2: return now + 65000;                     // a keep-alive timeout
      default: return now + rnd(2000);
    }
  };
  auto sched = [&](int id, uint64_t d) {
    if (live[id]) ref.erase(where[id]);
    where[id] = ref.emplace(d, id);
    live[id] = true;
    ts[id]->want = d;
    w.schedule(ts[id].get(), d);
  };
  auto cancel = [&](int id) {
    if (live[id]) ref.erase(where[id]);
    live[id] = false;
    w.cancel(ts[id].get());
  };
  for (size_t i = 0; i < kTimers; ++i) sched(static_cast<int>(i), pick_deadline());
  size_t fired_total = 0;
  int errors_before = g_failures;
  for (int round = 0; round < 20000 && g_failures - errors_before < 20; ++round) {
    // Some changes.
    const int changes = static_cast<int>(rnd(20));
    for (int k = 0; k < changes; ++k) {
      const int id = static_cast<int>(rnd(kTimers));
      if (rnd(4) == 0) cancel(id);
      else sched(id, pick_deadline());
    }
    // next_timeout against the reference: not past the moment the earliest timer would fire.
    const int64_t nt = w.next_timeout(now);
    CHECK((nt < 0) == ref.empty(), "round %d: next_timeout %lld with %zu timers", round, (long long)nt, ref.size());
    if (!ref.empty() && nt >= 0) {
      const uint64_t earliest = ref.begin()->first;
      const uint64_t fires_by = std::max(now, (earliest + G - 1) / G * G);
      CHECK(now + static_cast<uint64_t>(nt) <= fires_by, "round %d: now %llu next_timeout %lld, earliest %llu", round,
            (unsigned long long)now, (long long)nt, (unsigned long long)earliest);
    }
    // Advance: mostly small steps, sometimes a jump (a slow turn), rarely more than a turn.
    const uint64_t r = rnd(100);
    now += r < 90 ? rnd(10) : r < 99 ? rnd(3000) : kTurn + rnd(kTurn);
    std::vector<int> fired;
    w.advance(now, [&](TimerNode* n) { fired.push_back(static_cast<Timer*>(n)->id); });
    for (int id : fired) {
      CHECK(live[id], "round %d: timer %d fired but was not scheduled", round, id);
      if (!live[id]) continue;
      CHECK(ts[id]->want <= now, "round %d: timer %d early: deadline %llu now %llu", round, id,
            (unsigned long long)ts[id]->want, (unsigned long long)now);
      ref.erase(where[id]);
      live[id] = false;
    }
    fired_total += fired.size();
    // Whatever is still scheduled is not overdue by a granule or more.
    if (!ref.empty()) {
      CHECK(ref.begin()->first + G > now, "round %d: timer %d with deadline %llu not fired at %llu", round,
            ref.begin()->second, (unsigned long long)ref.begin()->first, (unsigned long long)now);
    }
    CHECK(w.size() == ref.size(), "round %d: size %zu, reference %zu", round, w.size(), ref.size());
    // Right after an advance, 0 means something is due now (else the loop would spin).
    const int64_t after = w.next_timeout(now);
    if (after == 0) {
      CHECK(!ref.empty() && ref.begin()->first <= now, "round %d: next_timeout 0 after advance(%llu), earliest %llu",
            round, (unsigned long long)now, ref.empty() ? 0ULL : (unsigned long long)ref.begin()->first);
    }
  }
  CHECK(fired_total > kTimers / 2, "the random test fired too few timers: %zu", fired_total);
  for (auto& t : ts) w.cancel(t.get());
  CHECK(w.size() == 0, "size after cancelling all: %zu", w.size());
}

}  // namespace

int main() {
  test_schedule_cancel_reschedule();
  test_every_ms();
  test_beyond_one_turn();
  test_expire_may_touch_the_wheel();
  test_next_timeout();
  test_random_against_reference();
  return check_exit("timer_wheel_test");
}
