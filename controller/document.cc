#include "controller/document.h"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace anf::controller {

namespace {
constexpr std::array<std::pair<Kind, std::string_view>, 6> kKinds = {{
    {Kind::UserAssignedIdentity, "UserAssignedIdentity"},
    {Kind::CrossTenantApplication, "CrossTenantApplication"},
    {Kind::PrivateEndpoint, "PrivateEndpoint"},
    {Kind::NetAppAccount, "NetAppAccount"},
    {Kind::CapacityPool, "CapacityPool"},
    {Kind::Volume, "Volume"},
}};
}  // namespace

std::string_view kindName(Kind kind) {
  for (const auto& [k, name] : kKinds)
    if (k == kind) return name;
  return "Unknown";
}

std::optional<Kind> parseKind(std::string_view name) {
  for (const auto& [k, n] : kKinds)
    if (n == name) return k;
  return std::nullopt;
}

const std::vector<Kind>& allKinds() {
  static const std::vector<Kind> kinds = [] {
    std::vector<Kind> out;
    for (const auto& [k, name] : kKinds) out.push_back(k);
    return out;
  }();
  return kinds;
}

std::string SourceLocation::str() const {
  if (line <= 0) return file;  // a whole file or path (e.g. one that does not exist)
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string DocumentKey::str() const { return std::string(kindName(kind)) + "/" + name; }

std::string ManifestError::str() const {
  std::string out = location.str() + ": ";
  if (!document.empty()) out += document + ": ";
  if (!fieldPath.empty()) out += fieldPath + ": ";
  return out + message;
}

// ---- DocumentMap: an AVL tree with path copying ----------------------------------------------------

struct DocumentMap::Node {
  std::shared_ptr<const value_type> value;  // shared by rebalanced copies of this node
  NodePtr left, right;
  int height = 1;
};

namespace {

using Node = DocumentMap::Node;
using NodePtr = DocumentMap::NodePtr;
using Value = std::shared_ptr<const DocumentMap::value_type>;

int height(const NodePtr& n) { return n ? n->height : 0; }

NodePtr make(Value value, NodePtr left, NodePtr right) {
  const int h = 1 + std::max(height(left), height(right));
  return std::make_shared<const Node>(Node{std::move(value), std::move(left), std::move(right), h});
}

// A node whose sides differ in height by at most 2, rebuilt to differ by at most 1.
NodePtr balanced(Value value, NodePtr left, NodePtr right) {
  if (height(left) > height(right) + 1) {
    if (height(left->left) >= height(left->right))
      return make(left->value, left->left, make(std::move(value), left->right, std::move(right)));
    return make(left->right->value, make(left->value, left->left, left->right->left),
                make(std::move(value), left->right->right, std::move(right)));
  }
  if (height(right) > height(left) + 1) {
    if (height(right->right) >= height(right->left))
      return make(right->value, make(std::move(value), std::move(left), right->left), right->right);
    return make(right->left->value, make(std::move(value), std::move(left), right->left->left),
                make(right->value, right->left->right, right->right));
  }
  return make(std::move(value), std::move(left), std::move(right));
}

// `value` under `n`; an existing key is replaced only when `replace`. `inserted` says whether the key was new.
NodePtr insert(const NodePtr& n, Value value, bool replace, bool& inserted) {
  if (!n) {
    inserted = true;
    return make(std::move(value), nullptr, nullptr);
  }
  const DocumentKey& key = value->first;
  if (key < n->value->first) {
    auto left = insert(n->left, std::move(value), replace, inserted);
    return left == n->left ? n : balanced(n->value, std::move(left), n->right);
  }
  if (n->value->first < key) {
    auto right = insert(n->right, std::move(value), replace, inserted);
    return right == n->right ? n : balanced(n->value, n->left, std::move(right));
  }
  inserted = false;
  return replace ? make(std::move(value), n->left, n->right) : n;
}

NodePtr withoutMin(const NodePtr& n, Value& min) {
  if (!n->left) {
    min = n->value;
    return n->right;
  }
  return balanced(n->value, withoutMin(n->left, min), n->right);
}

NodePtr erase(const NodePtr& n, const DocumentKey& key, bool& erased) {
  if (!n) return n;
  if (key < n->value->first) {
    auto left = erase(n->left, key, erased);
    return erased ? balanced(n->value, std::move(left), n->right) : n;
  }
  if (n->value->first < key) {
    auto right = erase(n->right, key, erased);
    return erased ? balanced(n->value, n->left, std::move(right)) : n;
  }
  erased = true;
  if (!n->right) return n->left;
  Value successor;
  auto right = withoutMin(n->right, successor);
  return balanced(std::move(successor), n->left, std::move(right));
}

}  // namespace

DocumentMap::DocumentMap(std::initializer_list<value_type> items) {
  for (const auto& [key, document] : items) insert_or_assign(key, document);
}

const DocumentMap::value_type& DocumentMap::const_iterator::operator*() const { return *path_.back()->value; }

void DocumentMap::const_iterator::descendLeft(const Node* node) {
  for (; node; node = node->left.get()) path_.push_back(node);
}

DocumentMap::const_iterator& DocumentMap::const_iterator::operator++() {
  const Node* current = path_.back();
  path_.pop_back();
  descendLeft(current->right.get());
  return *this;
}

bool DocumentMap::const_iterator::operator==(const const_iterator& other) const {
  if (path_.empty() || other.path_.empty()) return path_.empty() == other.path_.empty();
  return path_.back() == other.path_.back();
}

DocumentMap::const_iterator DocumentMap::begin() const {
  const_iterator it;
  it.descendLeft(root_.get());
  return it;
}

DocumentMap::const_iterator DocumentMap::find(const DocumentKey& key) const {
  const_iterator it;
  for (const Node* n = root_.get(); n;) {
    if (key < n->value->first) {
      it.path_.push_back(n);  // visited after the left side
      n = n->left.get();
    } else if (n->value->first < key) {
      n = n->right.get();
    } else {
      it.path_.push_back(n);
      return it;
    }
  }
  return end();
}

DocumentMap::const_iterator DocumentMap::lower_bound(const DocumentKey& key) const {
  const_iterator it;
  for (const Node* n = root_.get(); n;) {
    if (n->value->first < key) {
      n = n->right.get();
    } else {
      it.path_.push_back(n);  // visited after the left side, which holds smaller keys only
      n = n->left.get();
    }
  }
  return it;
}

const Document& DocumentMap::at(const DocumentKey& key) const {
  const auto it = find(key);
  if (it == end()) throw std::out_of_range("no document " + key.str());
  return it->second;
}

std::pair<DocumentMap::const_iterator, bool> DocumentMap::insert(std::shared_ptr<const value_type> value, bool replace) {
  const DocumentKey& key = value->first;  // owned by the tree from here on
  bool inserted = false;
  root_ = controller::insert(root_, value, replace, inserted);
  if (inserted) ++size_;
  return {find(key), inserted};
}

std::size_t DocumentMap::erase(const DocumentKey& key) {
  bool erased = false;
  root_ = controller::erase(root_, key, erased);
  if (!erased) return 0;
  --size_;
  return 1;
}

Document& DocumentMap::at(const DocumentKey& key) {
  if (!contains(key)) throw std::out_of_range("no document " + key.str());
  return (*this)[key];
}

Document& DocumentMap::operator[](const DocumentKey& key) {
  const auto it = find(key);
  insert_or_assign(key, it == end() ? Document{} : it->second);  // a value this copy owns alone
  // The value was created non-const by insert_or_assign; no other map shares it yet.
  return const_cast<Document&>(find(key)->second);
}

}  // namespace anf::controller
