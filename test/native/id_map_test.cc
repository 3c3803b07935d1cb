// deps:
// native/io/id_map.h (header only): insert, find and erase by id; erase keeps every other entry findable (the
// backward shift across the array's end included); growth and shrinking; shared_ptr values released on erase
// and clear; and 200k random operations against a std::unordered_map.
#include <cstdio>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "../../native/io/id_map.h"
#include "check.h"

using namespace nova;

namespace {

void test_basics() {
  g_test = "basics";
  IdMap<int*> m;
  CHECK(m.empty());
  CHECK(m.find(1) == nullptr);
  CHECK(!m.erase(1));
  int a = 1, b = 2;
  m.insert(7, &a);
  m.insert(8, &b);
  CHECK(m.size() == size_t{2});
  CHECK(m.find(7) != nullptr && *m.find(7) == &a);
  CHECK(m.find(8) != nullptr && *m.find(8) == &b);
  CHECK(m.find(9) == nullptr);
  CHECK(m.erase(7));
  CHECK(!m.erase(7));
  CHECK(m.find(7) == nullptr);
  CHECK(*m.find(8) == &b);
  size_t seen = 0;
  m.for_each([&](uint32_t id, int*& v) {
    CHECK(id == 8u);
    CHECK(v == &b);
    ++seen;
  });
  CHECK(seen == size_t{1});
  m.clear();
  CHECK(m.empty());
  CHECK(m.find(8) == nullptr);
}

// Ids handed out in order, most of them erased again (connections come and go), some kept for long: every id
// kept stays findable through growth, shrinking and the erasures around it.
void test_churn_and_resize() {
  g_test = "churn and resize";
  IdMap<uint32_t> m;
  std::vector<uint32_t> kept;
  uint32_t next = 1;
  for (int round = 0; round < 50; ++round) {
    std::vector<uint32_t> batch;
    for (int i = 0; i < 1000; ++i) {
      m.insert(next, next * 3);
      batch.push_back(next++);
    }
    for (uint32_t id : batch) {
      if (id % 97 == 0) kept.push_back(id);
      else CHECK(m.erase(id));
    }
    CHECK(m.size() == kept.size());
    for (uint32_t id : kept) CHECK(m.find(id) != nullptr && *m.find(id) == id * 3);
  }
  for (uint32_t id : kept) CHECK(m.erase(id));
  CHECK(m.empty());
}

// Ids near the top of the range (they wrap after 2^32 - 1) hash like any other.
void test_large_ids() {
  g_test = "large ids";
  IdMap<int> m;
  for (uint32_t id = 0xFFFFFF00u; id != 0; ++id) m.insert(id, static_cast<int>(id & 0xFF));
  CHECK(m.size() == size_t{256});
  for (uint32_t id = 0xFFFFFF00u; id != 0; ++id) CHECK(m.find(id) != nullptr && *m.find(id) == int(id & 0xFF));
}

void test_shared_ptr_values() {
  g_test = "shared_ptr values";
  IdMap<std::shared_ptr<int>> m;
  auto p = std::make_shared<int>(5);
  std::weak_ptr<int> w = p;
  m.insert(3, std::move(p));
  for (uint32_t id = 10; id < 200; ++id) m.insert(id, std::make_shared<int>(static_cast<int>(id)));
  CHECK(!w.expired());
  CHECK(m.erase(3));
  CHECK(w.expired());  // released on erase, not kept in the emptied slot
  auto q = std::make_shared<int>(6);
  std::weak_ptr<int> wq = q;
  m.insert(4, std::move(q));
  m.clear();
  CHECK(wq.expired());
}

void test_random_against_reference() {
  g_test = "random against std::unordered_map";
  std::mt19937 rng(12345);
  IdMap<uint64_t> m;
  std::unordered_map<uint32_t, uint64_t> ref;
  for (int op = 0; op < 200000; ++op) {
    // A small id space so that collisions, runs and wrap-around at the array's end happen often.
    const uint32_t id = 1 + rng() % 3000;
    const unsigned what = rng() % 3;
    if (what == 0 && ref.count(id) == 0) {
      const uint64_t v = rng();
      m.insert(id, v);
      ref[id] = v;
    } else if (what == 1) {
      CHECK(m.erase(id) == (ref.erase(id) == 1));
    } else {
      uint64_t* v = m.find(id);
      auto it = ref.find(id);
      CHECK((v != nullptr) == (it != ref.end()));
      if (v != nullptr && it != ref.end()) CHECK(*v == it->second);
    }
    CHECK(m.size() == ref.size());
  }
  for (auto& kv : ref) CHECK(m.find(kv.first) != nullptr && *m.find(kv.first) == kv.second);
}

}  // namespace

int main() {
  test_basics();
  test_churn_and_resize();
  test_large_ids();
  test_shared_ptr_values();
  test_random_against_reference();
  return check_exit("id_map_test");
}
