package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// Sample draws one service time from the distribution. Each kind makes a fixed number
// of draws from r, so runs stay comparable across seeds.
func (d Dist) Sample(r *rand.Rand) time.Duration {
	switch d.Kind {
	case Uniform:
		if d.Max == d.Min {
			return d.Min
		}
		return d.Min + time.Duration(r.Int64N(int64(d.Max-d.Min)+1))
	case Exponential:
		return time.Duration(r.ExpFloat64() * float64(d.Mean))
	case LogNormal:
		// The mean of exp(N(mu, sigma²)) is exp(mu + sigma²/2).
		mu := math.Log(float64(d.Mean)) - d.Sigma*d.Sigma/2
		return time.Duration(math.Exp(mu + d.Sigma*r.NormFloat64()))
	}
	return d.Mean
}

// String describes the distribution, e.g. "exponential(mean 10ms)".
func (d Dist) String() string {
	switch d.Kind {
	case Uniform:
		return "uniform(" + d.Min.String() + ".." + d.Max.String() + ")"
	case Exponential:
		return "exponential(mean " + d.Mean.String() + ")"
	case LogNormal:
		return "lognormal(mean " + d.Mean.String() + ", σ " + ftoa(d.Sigma) + ")"
	}
	return "constant(" + d.Mean.String() + ")"
}
