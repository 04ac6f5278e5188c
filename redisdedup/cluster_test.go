package redisdedup_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/redisdedup"
)

// redisCluster is a real Redis Cluster on loopback ports: three masters,
// each with one replica, started for one test; its processes are killed
// and its directories removed when the test ends.
type redisCluster struct {
	t       *testing.T
	nodes   []*redisServer
	clients map[*redisServer]*redis.Client
}

// startCluster starts six cluster-enabled redis-servers and joins them
// with redis-cli --cluster create, then waits until every slot is served
// and every replica is in sync with its master.
func startCluster(t *testing.T) *redisCluster {
	t.Helper()
	server := requireRedisTool(t, "redis-server")
	cli := requireRedisTool(t, "redis-cli")
	c := &redisCluster{t: t, clients: map[*redisServer]*redis.Client{}}
	var addrs []string
	for range 6 {
		s := &redisServer{t: t, path: server, dir: t.TempDir(), port: freeClusterPort(t),
			args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "2000", "--repl-diskless-sync-delay", "0", "--loglevel", "notice", "--logfile", "redis.log"}}
		s.start()
		t.Cleanup(s.stop)
		c.nodes = append(c.nodes, s)
		addrs = append(addrs, s.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, append(append([]string{"--cluster", "create"}, addrs...),
		"--cluster-replicas", "1", "--cluster-yes")...).CombinedOutput()
	require.NoError(t, err, "redis-cli --cluster create:\n%s", out)
	c.waitUntil(func() bool {
		for _, n := range c.nodes {
			if !strings.Contains(c.node(n).ClusterInfo(ctx).Val(), "cluster_state:ok") {
				return false
			}
			if r := c.replication(n); r["role"] == "slave" && r["master_link_status"] != "up" {
				return false
			}
			// Every node linked to every other: a manual failover's
			// request to a master that a replica has no link to yet is
			// dropped silently.
			lines := strings.Split(strings.TrimSpace(c.node(n).ClusterNodes(ctx).Val()), "\n")
			if len(lines) != len(c.nodes) {
				return false
			}
			slaves := 0
			for _, l := range lines {
				if !strings.Contains(l, " connected") || strings.Contains(l, "handshake") || strings.Contains(l, "fail") {
					return false
				}
				if strings.Contains(l, "slave ") {
					slaves++
				}
			}
			if slaves != len(c.nodes)/2 { // every node knows every replica as one
				return false
			}
		}
		return true
	}, "the cluster to serve every slot, its nodes linked, its replicas in sync")
	return c
}

// freeClusterPort finds a free loopback port whose cluster bus port (the
// port + 10000) is free too.
func freeClusterPort(t *testing.T) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		if port+10000 > 65535 {
			l.Close()
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		l.Close()
		if err != nil {
			continue
		}
		bus.Close()
		return port
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// Addrs are the nodes' host:port.
func (c *redisCluster) Addrs() []string {
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, n.Addr())
	}
	return addrs
}

// Client returns a go-redis cluster client, closed when the test ends.
func (c *redisCluster) Client() *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), DialTimeout: time.Second})
	c.t.Cleanup(func() { cc.Close() })
	return cc
}

// node returns a plain client for one node, closed when the test ends.
func (c *redisCluster) node(n *redisServer) *redis.Client {
	if cl, ok := c.clients[n]; ok {
		return cl
	}
	cl := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	c.t.Cleanup(func() { cl.Close() })
	c.clients[n] = cl
	return cl
}

// replication is a node's INFO replication, as fields.
func (c *redisCluster) replication(n *redisServer) map[string]string {
	fields := map[string]string{}
	for _, line := range strings.Split(c.node(n).Info(context.Background(), "replication").Val(), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = v
		}
	}
	return fields
}

// replicaOf returns the node replicating the master on addr.
func (c *redisCluster) replicaOf(addr string) *redisServer {
	c.t.Helper()
	for _, n := range c.nodes {
		r := c.replication(n)
		if r["role"] == "slave" && net.JoinHostPort(r["master_host"], r["master_port"]) == addr {
			return n
		}
	}
	c.t.Fatalf("no replica of %s", addr)
	return nil
}

// waitUntil polls cond until it holds, failing the test after a bound that
// only keeps a broken cluster from hanging the run.
func (c *redisCluster) waitUntil(cond func() bool, what string) {
	c.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			for _, n := range c.nodes {
				log, _ := os.ReadFile(filepath.Join(n.dir, "redis.log"))
				c.t.Logf("%s: %v\n%s\n%s", n.Addr(), c.replication(n), c.node(n).ClusterNodes(context.Background()).Val(), log)
			}
			c.t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestRedisCluster runs the deduplicator on a real three-master Redis
// Cluster through go-redis's cluster client: ids spread over every master,
// one claim wins among racing instances, and the master holding an id
// fails over to its replica (CLUSTER FAILOVER) while instances claim and
// complete: a done id stays done, a claim stays its holder's, and every id
// completed before, during and after the failover reads done. A namespace
// with braces spreads over the masters as any other, and New refuses the
// cluster when one master may evict keys.
func TestRedisCluster(t *testing.T) {
	cl := startCluster(t)
	cc1, cc2 := cl.Client(), cl.Client() // two instances
	opts := []redisdedup.Option{redisdedup.WithLease(time.Minute), redisdedup.WithNamespace("1900000001")}
	d1, d2 := newDedup(t, cc1, opts...), newDedup(t, cc2, opts...)
	prefix := redisdedup.DefaultKeyPrefix + "1900000001:"

	// Ids land on every master, and each script runs where its key lives.
	for i := range 30 {
		id := "spread-" + strconv.Itoa(i)
		c, err := d1.Claim(ctx, id)
		require.NoError(t, err)
		require.Equal(t, busifavor.ClaimStatusClaimed, c.Status)
		require.NoError(t, d2.Complete(ctx, id, c.Token))
	}
	var mu sync.Mutex
	perMaster := map[string]int64{}
	require.NoError(t, cc1.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		mu.Lock()
		defer mu.Unlock()
		perMaster[m.Options().Addr] = n
		return err
	}))
	require.Len(t, perMaster, 3)
	for addr, n := range perMaster {
		assert.Positive(t, n, "master %s holds none of the ids", addr)
	}

	// Racing instances: one winner per id.
	for i := range 20 {
		id := "race-" + strconv.Itoa(i)
		results := make(chan busifavor.ClaimStatus, 8)
		var wg sync.WaitGroup
		for j := range 8 {
			wg.Add(1)
			go func(d *redisdedup.Deduplicator) {
				defer wg.Done()
				c, err := d.Claim(ctx, id)
				if assert.NoError(t, err) {
					results <- c.Status
				}
			}([]*redisdedup.Deduplicator{d1, d2}[j%2])
		}
		wg.Wait()
		close(results)
		won := 0
		for s := range results {
			if s == busifavor.ClaimStatusClaimed {
				won++
			}
		}
		assert.Equal(t, 1, won, "id %s", id)
	}

	// The failover: a done id and a claimed id on one master.
	const doneID, heldID = "probe", "held"
	c, err := d1.Claim(ctx, doneID)
	require.NoError(t, err)
	require.NoError(t, d1.Complete(ctx, doneID, c.Token))
	old, err := cc1.MasterForKey(ctx, prefix+doneID)
	require.NoError(t, err)
	oldAddr := old.Options().Addr
	heldKey := "" // an id in flight on the same master
	for i := 0; heldKey == ""; i++ {
		id := heldID + strconv.Itoa(i)
		if m, err := cc1.MasterForKey(ctx, prefix+id); err == nil && m.Options().Addr == oldAddr {
			heldKey = id
		}
	}
	held, err := d1.Claim(ctx, heldKey)
	require.NoError(t, err)
	require.Equal(t, busifavor.ClaimStatusClaimed, held.Status)
	replica := cl.replicaOf(oldAddr)

	// Instances keep claiming and completing fresh ids through it.
	stop := make(chan struct{})
	type result struct {
		completed []string
		errs      []error
	}
	results := make(chan result, 4)
	for w := range 4 {
		go func(d *redisdedup.Deduplicator) {
			var r result
			defer func() { results <- r }()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("during-%d-%d", w, i)
				c, err := d.Claim(ctx, id)
				if err != nil {
					r.errs = append(r.errs, err)
					continue
				}
				if c.Status != busifavor.ClaimStatusClaimed {
					r.errs = append(r.errs, fmt.Errorf("fresh id %s: %v", id, c.Status))
					continue
				}
				if err := d.Complete(ctx, id, c.Token); err != nil {
					r.errs = append(r.errs, err)
					continue
				}
				r.completed = append(r.completed, id)
				time.Sleep(time.Millisecond) // a steady load, not a flood
			}
		}([]*redisdedup.Deduplicator{d1, d2}[w%2])
	}
	rc := cl.node(replica)
	asked := time.Time{}
	cl.waitUntil(func() bool {
		if cl.replication(replica)["role"] == "master" {
			return strings.Contains(rc.ClusterInfo(ctx).Val(), "cluster_state:ok")
		}
		// Redis gives a manual failover 5 s; ask again if it lapsed.
		if time.Since(asked) > 6*time.Second {
			require.NoError(t, rc.Do(ctx, "CLUSTER", "FAILOVER").Err())
			asked = time.Now()
		}
		return false
	}, "the replica to take over")
	cl.waitUntil(func() bool {
		m, err := cc1.MasterForKey(ctx, prefix+doneID)
		return err == nil && m.Options().Addr == replica.Addr()
	}, "the client to see the new master")
	// A few more rounds after the switch, then stop.
	for i := 0; i < 20; i++ {
		id := "after-" + strconv.Itoa(i)
		c, err := d2.Claim(ctx, id)
		require.NoError(t, err, "after the failover")
		require.Equal(t, busifavor.ClaimStatusClaimed, c.Status)
		require.NoError(t, d1.Complete(ctx, id, c.Token))
	}
	close(stop)
	var completed []string
	var errs []error
	for range 4 {
		r := <-results
		completed = append(completed, r.completed...)
		errs = append(errs, r.errs...)
	}
	t.Logf("failover of %s to %s: %d ids completed meanwhile, %d errors %v", oldAddr, replica.Addr(), len(completed), len(errs), errs)

	// Nothing was lost: what was done is done, what was held is held.
	c, err = d2.Claim(ctx, doneID)
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusDone, c.Status, "a done id stays done through the failover")
	c, err = d2.Claim(ctx, heldKey)
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusInFlight, c.Status, "a claim stays in flight through the failover")
	assert.ErrorIs(t, d2.Complete(ctx, heldKey, "another token"), busifavor.ErrNotOwner)
	require.NoError(t, d2.Complete(ctx, heldKey, held.Token), "its holder completes it on the new master")
	for _, id := range completed {
		c, err := d1.Claim(ctx, id)
		require.NoError(t, err)
		require.Equal(t, busifavor.ClaimStatusDone, c.Status, "id %s completed around the failover", id)
	}
	for i := range 30 {
		c, err := d1.Claim(ctx, "spread-"+strconv.Itoa(i))
		require.NoError(t, err)
		require.Equal(t, busifavor.ClaimStatusDone, c.Status)
	}

	// Braces in a namespace are no hash tag: its ids spread over every
	// master too (they used to share one slot).
	tagged := newDedup(t, cc1, redisdedup.WithNamespace("{1900000001}"))
	for i := range 30 {
		c, err := tagged.Claim(ctx, "tagged-"+strconv.Itoa(i))
		require.NoError(t, err)
		require.Equal(t, busifavor.ClaimStatusClaimed, c.Status)
	}
	taggedPerMaster := map[string]int{}
	require.NoError(t, cc1.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		keys, err := m.Keys(ctx, redisdedup.DefaultKeyPrefix+"%7B1900000001%7D:tagged-*").Result()
		mu.Lock()
		defer mu.Unlock()
		taggedPerMaster[m.Options().Addr] = len(keys)
		return err
	}))
	require.Len(t, taggedPerMaster, 3)
	for addr, n := range taggedPerMaster {
		assert.Positive(t, n, "master %s holds none of the namespace's ids: %v", addr, taggedPerMaster)
	}

	// New reads the maxmemory-policy of every master (and of the replicas
	// the CLUSTER SLOTS it gets lists): one evicting master is refused, by
	// its address.
	var evicting *redisServer
	for _, n := range cl.nodes {
		if cl.replication(n)["role"] == "master" {
			evicting = n
			break
		}
	}
	require.NotNil(t, evicting)
	require.NoError(t, cl.node(evicting).ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err())
	_, err = redisdedup.New(ctx, cc1)
	require.ErrorIs(t, err, redisdedup.ErrEvictingPolicy)
	assert.ErrorContains(t, err, evicting.Addr()+" has maxmemory-policy allkeys-lru")
}
