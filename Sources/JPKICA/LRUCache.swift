/// A least-recently-used map bounded by a total cost (bytes, say) and a count. Not thread-safe: its
/// owner guards it. Lookups, inserts and removals are O(1); the nodes live in one array, linked by
/// index, with a free list, so a full cache allocates nothing per insert.
struct LRUCache<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        /// nil in a free slot, so that a removed value is released at once.
        var value: Value?
        var cost: Int
        var newer = -1
        var older = -1
    }

    let maximumCost: Int
    let maximumCount: Int
    private var nodes: [Node] = []
    private var free: [Int] = []
    private var index: [Key: Int] = [:]
    /// Most and least recently used.
    private var newest = -1
    private var oldest = -1
    private(set) var totalCost = 0
    private(set) var evictions = 0

    init(maximumCost: Int, maximumCount: Int) {
        precondition(maximumCost > 0 && maximumCount > 0)
        self.maximumCost = maximumCost
        self.maximumCount = maximumCount
    }

    var count: Int { index.count }

    /// The value, marked as just used.
    mutating func get(_ key: Key) -> Value? {
        guard let i = index[key] else { return nil }
        moveToFront(i)
        return nodes[i].value!
    }

    /// Inserts or replaces; evicts the least recently used entries until both bounds hold, and
    /// returns them (the caller keeps secondary indexes). An entry costlier than the whole budget is
    /// not kept.
    @discardableResult
    mutating func set(_ key: Key, _ value: Value, cost: Int) -> [(Key, Value)] {
        var evicted: [(Key, Value)] = []
        remove(key)
        guard cost <= maximumCost else { return [(key, value)] }
        while count > 0 && (count + 1 > maximumCount || totalCost + cost > maximumCost) {
            let i = oldest
            let node = nodes[i]
            unlink(i)
            index[node.key] = nil
            release(i)
            evictions += 1
            evicted.append((node.key, node.value!))
        }
        let node = Node(key: key, value: value, cost: cost)
        let i: Int
        if let reused = free.popLast() { nodes[reused] = node; i = reused } else { nodes.append(node); i = nodes.count - 1 }
        index[key] = i
        totalCost += cost
        linkFront(i)
        return evicted
    }

    @discardableResult
    mutating func remove(_ key: Key) -> Value? {
        guard let i = index.removeValue(forKey: key) else { return nil }
        unlink(i)
        let value = nodes[i].value
        release(i)
        return value
    }

    private mutating func release(_ i: Int) {
        totalCost -= nodes[i].cost
        nodes[i].value = nil
        nodes[i].cost = 0
        free.append(i)
    }

    mutating func removeAll() {
        nodes.removeAll(); free.removeAll(); index.removeAll()
        newest = -1; oldest = -1; totalCost = 0
    }

    private mutating func moveToFront(_ i: Int) {
        guard newest != i else { return }
        unlink(i)
        linkFront(i)
    }

    private mutating func linkFront(_ i: Int) {
        nodes[i].newer = -1
        nodes[i].older = newest
        if newest >= 0 { nodes[newest].newer = i }
        newest = i
        if oldest < 0 { oldest = i }
    }

    private mutating func unlink(_ i: Int) {
        let newer = nodes[i].newer, older = nodes[i].older
        if newer >= 0 { nodes[newer].older = older } else { newest = older }
        if older >= 0 { nodes[older].newer = newer } else { oldest = newer }
        nodes[i].newer = -1; nodes[i].older = -1
    }
}
