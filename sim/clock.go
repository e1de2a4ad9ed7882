package sim

import "math"

// nodeClock maps virtual time to a node's local time, for clock-rate skew: from
// virtual instant baseV on, local time runs at rate from baseL. Local time never
// goes back, even when the rate changes. Times are nanoseconds since the start.
type nodeClock struct {
	rate         float64
	baseV, baseL int64
}

func newNodeClock() nodeClock { return nodeClock{rate: 1} }

// local returns the node's local time at virtual time v.
func (c *nodeClock) local(v int64) int64 {
	if c.rate == 1 {
		return c.baseL + v - c.baseV
	}
	return c.baseL + int64(math.Floor(float64(v-c.baseV)*c.rate))
}

// virtual returns the first virtual time at which local time reaches l.
func (c *nodeClock) virtual(l int64) int64 {
	if l <= c.baseL {
		return c.baseV
	}
	if c.rate == 1 {
		return c.baseV + l - c.baseL
	}
	v := c.baseV + int64(math.Ceil(float64(l-c.baseL)/c.rate))
	for c.local(v) < l {
		v++
	}
	return v
}

// setRate changes the rate from virtual time v on.
func (c *nodeClock) setRate(v int64, rate float64) {
	c.baseL = c.local(v)
	c.baseV = v
	c.rate = rate
}
