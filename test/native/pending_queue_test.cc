// deps:
// native/core/pending_queue.h (header only): FIFO order through the inline slot and the overflow; elements keep
// their address while others are pushed and popped; pop_back, clear, iteration; and random operations against a
// std::deque.
#include <cstdio>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "../../native/core/pending_queue.h"
#include "check.h"

using namespace nova;

namespace {

struct Item {
  int v = 0;
  std::string out;
};

Item item(int v) {
  Item i;
  i.v = v;
  i.out = std::string(static_cast<size_t>(v % 40), 'x');
  return i;
}

std::vector<int> values(const PendingQueue<Item>& q) {
  std::vector<int> r;
  for (const Item& i : q) r.push_back(i.v);
  return r;
}

void test_order_and_addresses() {
  g_test = "order and addresses";
  PendingQueue<Item> q;
  CHECK(q.empty() && q.size() == 0, "starts empty");
  q.push_back(item(1));
  Item* first = &q.front();
  CHECK(&q.back() == first && q.size() == 1, "one element is front and back");
  std::vector<Item*> at;
  for (int v = 2; v <= 40; ++v) {
    q.push_back(item(v));
    at.push_back(&q.back());
  }
  CHECK(&q.front() == first && first->v == 1, "pushes do not move the front");
  CHECK(q.size() == 40 && q.back().v == 40, "size %zu, back %d", q.size(), q.back().v);
  q.pop_front();
  CHECK(&q.front() == at[0] && q.front().v == 2, "after the inline front: the next in order, same address");
  for (size_t i = 0; i < at.size(); ++i) CHECK(at[i]->v == static_cast<int>(i) + 2, "element %zu kept its address", i);
  q.push_back(item(41));  // not empty: goes behind, never into the inline slot ahead of the others
  std::vector<int> want;
  for (int v = 2; v <= 41; ++v) want.push_back(v);
  CHECK(values(q) == want, "order after popping the inline front and pushing");
  while (!q.empty()) q.pop_front();
  q.push_back(item(7));
  CHECK(q.size() == 1 && q.front().v == 7 && q.front().out == std::string(7, 'x'), "empty again: inline slot");
}

void test_pop_back_and_clear() {
  g_test = "pop_back and clear";
  PendingQueue<Item> q;
  q.push_back(item(1));
  q.pop_back();
  CHECK(q.empty(), "pop_back of the only (inline) element");
  q.push_back(item(1));
  q.push_back(item(2));
  q.pop_back();
  CHECK(q.size() == 1 && q.back().v == 1 && q.front().v == 1, "pop_back of the overflow");
  q.push_back(item(3));
  q.clear();
  CHECK(q.empty() && q.size() == 0 && values(q).empty(), "clear");
  q.push_back(item(4));
  CHECK(values(q) == std::vector<int>{4}, "usable after clear");
}

void test_random_against_deque() {
  g_test = "random against std::deque";
  std::mt19937 rng(12);
  PendingQueue<Item> q;
  std::deque<int> ref;
  int next = 0;
  for (int step = 0; step < 200000; ++step) {
    const unsigned op = rng() % 10;
    if (op < 5 || ref.empty()) {
      q.push_back(item(next));
      ref.push_back(next++);
    } else if (op < 8) {
      q.pop_front();
      ref.pop_front();
    } else if (op < 9) {
      q.pop_back();
      ref.pop_back();
    } else if (rng() % 50 == 0) {
      q.clear();
      ref.clear();
    }
    if (q.size() != ref.size()) {
      FAIL("step %d: size %zu, want %zu", step, q.size(), ref.size());
      return;
    }
    if (!ref.empty() && (q.front().v != ref.front() || q.back().v != ref.back())) {
      FAIL("step %d: front/back %d/%d, want %d/%d", step, q.front().v, q.back().v, ref.front(), ref.back());
      return;
    }
    if (step % 997 == 0 && values(q) != std::vector<int>(ref.begin(), ref.end())) {
      FAIL("step %d: iteration differs", step);
      return;
    }
  }
}

}  // namespace

int main() {
  test_order_and_addresses();
  test_pop_back_and_clear();
  test_random_against_deque();
  return check_exit("pending_queue_test");
}
