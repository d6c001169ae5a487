package master

// shardQueue holds the queued shards of a pass ordered by id, which is scan
// order and so key order. It is an order-statistic treap (every node counts
// its subtree), so "the k-th queued shard" costs O(log n) and the broker can
// pick shards spread over the key space for 10^5+ queued shards without
// scanning the queue per lease. Priorities are a hash of the id, so the
// shape, and with it every grant, is deterministic.
type shardQueue struct {
	root *shardNode
	in   map[uint64]bool
}

type shardNode struct {
	id          uint64
	prio        uint64
	size        int // nodes in this subtree
	left, right *shardNode
}

func newShardQueue() *shardQueue { return &shardQueue{in: map[uint64]bool{}} }

func sizeOf(n *shardNode) int {
	if n == nil {
		return 0
	}
	return n.size
}

func (n *shardNode) fix() { n.size = 1 + sizeOf(n.left) + sizeOf(n.right) }

// mix is splitmix64's finaliser: a well-spread, deterministic priority.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// split returns the nodes with id < key and those with id >= key.
func split(n *shardNode, key uint64) (*shardNode, *shardNode) {
	if n == nil {
		return nil, nil
	}
	if n.id < key {
		l, r := split(n.right, key)
		n.right = l
		n.fix()
		return n, r
	}
	l, r := split(n.left, key)
	n.left = r
	n.fix()
	return l, n
}

// merge joins a and b, every id of a below every id of b.
func merge(a, b *shardNode) *shardNode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		a.right = merge(a.right, b)
		a.fix()
		return a
	default:
		b.left = merge(a, b.left)
		b.fix()
		return b
	}
}

// Has reports whether id is queued.
func (q *shardQueue) Has(id uint64) bool { return q.in[id] }

// Len is the number of queued shards.
func (q *shardQueue) Len() int { return sizeOf(q.root) }

// Push queues id (no-op if it is queued already).
func (q *shardQueue) Push(id uint64) {
	if q.in[id] {
		return
	}
	q.in[id] = true
	n := &shardNode{id: id, prio: mix(id), size: 1}
	l, r := split(q.root, id)
	q.root = merge(merge(l, n), r)
}

// Take removes and returns the k-th (from 0) queued shard in id order;
// k must be below Len.
func (q *shardQueue) Take(k int) uint64 {
	id := q.at(k)
	delete(q.in, id)
	l, r := split(q.root, id)
	_, r = split(r, id+1)
	q.root = merge(l, r)
	return id
}

func (q *shardQueue) at(k int) uint64 {
	n := q.root
	for {
		switch ls := sizeOf(n.left); {
		case k < ls:
			n = n.left
		case k == ls:
			return n.id
		default:
			k -= ls + 1
			n = n.right
		}
	}
}
