package modeltest

import (
	"context"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
)

// TestModelRedis runs the model against the Redis named by
// SESSION_TEST_REDIS, under a key prefix of its own per run, all deleted at
// the end.
func TestModelRedis(t *testing.T) {
	const variable = "SESSION_TEST_REDIS"
	addr := service(variable, "redis://127.0.0.1:6379/0")
	opts, err := redis.ParseURL(addr)
	if err != nil {
		t.Fatalf("%s: %v", variable, err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		unreachable(t, variable, addr, err)
	}
	prefix := "sessionkit-modeltest:" + rand.Text()[:12] + ":"
	t.Cleanup(func() { deleteKeys(t, client, prefix) })
	c := &clock{}
	runs := 0
	fresh := func() (session.Store, error) { // a prefix of its own per run
		runs++
		return redisstore.New(client, redisstore.Options{Prefix: prefix + strconv.Itoa(runs) + ":", Now: c.Now}), nil
	}
	runModel(t, env{clock: c, fresh: fresh}, budget{checks: 350, steps: 150})
}

func deleteKeys(t *testing.T, client *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scanning %s*: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := client.Del(ctx, keys[:n]...).Err(); err != nil {
			t.Errorf("deleting %s*: %v", prefix, err)
			return
		}
		keys = keys[n:]
	}
}
