// A connection's pipeline: a FIFO whose first element lives inline. Most connections have at most one request in
// flight, and libstdc++'s std::deque allocates ~600 B even when empty; here only a connection with a second
// request in flight (pipelining) allocates one. Elements never move once pushed (the connection keeps pointers to
// them across pushes), as in a deque.
#pragma once
#include <cstddef>
#include <deque>
#include <memory>

namespace nova {

template <class T>
class PendingQueue {
 public:
  bool empty() const { return !has_first_ && (!rest_ || rest_->empty()); }
  size_t size() const { return (has_first_ ? 1 : 0) + (rest_ ? rest_->size() : 0); }

  T& front() { return has_first_ ? first_ : rest_->front(); }
  const T& front() const { return has_first_ ? first_ : rest_->front(); }
  T& back() { return rest_ && !rest_->empty() ? rest_->back() : first_; }
  const T& back() const { return rest_ && !rest_->empty() ? rest_->back() : first_; }

  // The inline slot is used only when the queue is empty: it must stay the front.
  void push_back(T&& v) {
    if (empty()) {
      first_ = std::move(v);
      has_first_ = true;
      return;
    }
    if (!rest_) rest_ = std::make_unique<std::deque<T>>();
    rest_->push_back(std::move(v));
  }
  void pop_front() {
    if (has_first_) {
      first_ = T();  // gives back what it held (its output buffer)
      has_first_ = false;
    } else {
      rest_->pop_front();
    }
  }
  void pop_back() {
    if (rest_ && !rest_->empty()) {
      rest_->pop_back();
    } else {
      first_ = T();
      has_first_ = false;
    }
  }
  void clear() {
    if (has_first_) pop_front();
    if (rest_) rest_->clear();
  }

  template <class Q, class E>
  class Iter {
   public:
    Iter(Q* q, size_t i) : q_(q), i_(i) {}
    E& operator*() const { return q_->at(i_); }
    Iter& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iter& o) const { return i_ != o.i_; }

   private:
    Q* q_;
    size_t i_;
  };
  Iter<PendingQueue, T> begin() { return {this, 0}; }
  Iter<PendingQueue, T> end() { return {this, size()}; }
  Iter<const PendingQueue, const T> begin() const { return {this, 0}; }
  Iter<const PendingQueue, const T> end() const { return {this, size()}; }

  T& at(size_t i) { return has_first_ ? (i == 0 ? first_ : (*rest_)[i - 1]) : (*rest_)[i]; }
  const T& at(size_t i) const { return has_first_ ? (i == 0 ? first_ : (*rest_)[i - 1]) : (*rest_)[i]; }

 private:
  T first_{};
  bool has_first_ = false;
  std::unique_ptr<std::deque<T>> rest_;  // the elements after the first, once there were two at once
};

}  // namespace nova
