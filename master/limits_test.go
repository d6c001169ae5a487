package master

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestShare(t *testing.T) {
	cases := []struct {
		limit Limits
		live  int
		want  Limits
	}{
		{Limits{300, 30}, 1, Limits{300, 30}},
		{Limits{300, 30}, 2, Limits{150, 15}},
		{Limits{300, 30}, 3, Limits{100, 10}},
		{Limits{300, 30}, 0, Limits{300, 30}}, // no live worker counted: the whole limit
		{Limits{0, 0}, 3, Limits{0, 0}},       // unlimited stays unlimited
		{Limits{2, 0}, 3, Limits{1, 0}},       // never rounds down to 0 (= unlimited)
		{Limits{0, 1}, 4, Limits{0, 0.25}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Share(c.limit, c.live), "%+v among %d", c.limit, c.live)
	}
}

func TestWorkerShare(t *testing.T) {
	l := Limits{600, 60}
	cases := []struct {
		live, active int
		isActive     bool
		want         Limits
	}{
		{3, 0, false, Limits{200, 20}}, // nobody on the job: equal split
		{3, 1, true, Limits{600, 60}},  // the one worker on the job: all of it
		{3, 1, false, Limits{200, 20}}, // an idle one: what an equal split gives
		{3, 2, true, Limits{300, 30}},
		{3, 3, true, Limits{200, 20}},
		{2, 2, false, Limits{200, 20}}, // not counted live (yet): still no more than 1/(active+1)
	}
	for _, c := range cases {
		assert.Equal(t, c.want, WorkerShare(l, c.live, c.active, c.isActive), "%+v", c)
	}
}

func TestEffective(t *testing.T) {
	measured := Rates{BytesPerSecond: 1000, ObjectsPerSecond: 40}
	cases := []struct {
		name       string
		configured Limits
		factor     float64
		base       Rates
		want       Limits
	}{
		{"no backoff, limited", Limits{300, 30}, 1, Rates{}, Limits{300, 30}},
		{"no backoff, unlimited", Limits{}, 1, measured, Limits{}},
		{"backoff scales a configured limit", Limits{300, 30}, 0.5, measured, Limits{150, 15}},
		{"backoff limits an unlimited job to factor x base", Limits{}, 0.5, measured, Limits{500, 20}},
		{"mixed: one rate configured", Limits{300, 0}, 0.25, measured, Limits{75, 10}},
		{"backoff but nothing measured", Limits{}, 0.5, Rates{}, Limits{}},
		{"floor keeps a limit positive", Limits{1, 0}, 0.05, Rates{}, Limits{1, 0}},
		{"bad factor is ignored", Limits{300, 0}, 0, measured, Limits{300, 0}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Effective(c.configured, c.factor, c.base), c.name)
	}
}

func TestBackoffAIMD(t *testing.T) {
	const window = 5 * time.Second
	measured := Rates{BytesPerSecond: 1000}
	type step struct {
		after     time.Duration // since the previous step
		slowdowns int64
		want      float64
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"quiet cluster stays at 1", []step{{0, 0, 1}, {window, 0, 1}}},
		{"first slowdown halves", []step{{0, 3, 0.5}}},
		{"one decrease per window, however many workers report", []step{
			{0, 1, 0.5}, {time.Second, 4, 0.5}, {time.Second, 2, 0.5}, {3 * time.Second, 1, 0.25}}},
		{"floor at 0.05", []step{
			{0, 1, 0.5}, {window, 1, 0.25}, {window, 1, 0.125}, {window, 1, 0.0625}, {window, 1, 0.05}, {window, 1, 0.05}}},
		{"recovers 0.1 per quiet window", []step{
			{0, 1, 0.5}, {time.Second, 0, 0.5}, {4 * time.Second, 0, 0.6}, {time.Second, 0, 0.6}, {4 * time.Second, 0, 0.7}}},
		{"recovery stops at 1", []step{
			{0, 1, 0.5}, {window, 0, 0.6}, {window, 0, 0.7}, {window, 0, 0.8}, {window, 0, 0.9}, {window, 0, 1}, {window, 0, 1}}},
		{"trouble again during recovery halves again", []step{
			{0, 1, 0.5}, {window, 0, 0.6}, {window, 2, 0.3}}},
	}
	for _, c := range cases {
		var b Backoff
		now := t0
		for i, s := range c.steps {
			now = now.Add(s.after)
			b.Observe(now, s.slowdowns, measured, window)
			assert.InDelta(t, s.want, b.Current(), 1e-9, fmt.Sprintf("%s: step %d", c.name, i))
		}
	}
}

func TestBackoffBaseIsFrozenWhileBackingOff(t *testing.T) {
	var b Backoff
	b.Observe(t0, 1, Rates{BytesPerSecond: 1000}, time.Second)
	assert.Equal(t, 1000.0, b.Base.BytesPerSecond)
	// Throttled, the cluster now moves less: the base must not follow it
	// down, or the limit would shrink every window.
	b.Observe(t0.Add(2*time.Second), 1, Rates{BytesPerSecond: 400}, time.Second)
	assert.Equal(t, 1000.0, b.Base.BytesPerSecond)
	assert.Equal(t, Limits{BytesPerSecond: 250}, Effective(Limits{}, b.Current(), b.Base))
	for i := 3; b.Current() < 1; i++ {
		b.Observe(t0.Add(time.Duration(i)*2*time.Second), 0, Rates{BytesPerSecond: 400}, time.Second)
	}
	assert.Zero(t, b.Base, "fully recovered: forgotten")
	assert.Equal(t, Limits{}, Effective(Limits{}, b.Current(), b.Base))
}
