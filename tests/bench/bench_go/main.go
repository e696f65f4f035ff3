// bench_go measures Go's context package on the operations bench_ctx.c measures for
// libctxtrace, with the same method and the same output format, so that compare.sh can
// put the two side by side. Each output line is
//
//	<name> <value> <unit> <count>
//
// and lines starting with '#' are comments.
//
// Method (identical to bench_ctx.c, and to Go's testing.B):
//   - every timed operation runs its loop n times and returns the elapsed time; setup
//     happens outside the clock;
//   - warm-up and calibration: n grows from 1 (Go's predictN) until one run lasts at
//     least a tenth of the bench time; those runs are discarded;
//   - n is scaled so one run lasts the bench time (default 0.25 s), that run is repeated
//     -count times (default 4) and the best ns/op is reported. As testing.B does,
//     runtime.GC() runs before each run; collections the loop itself triggers are
//     inside the measurement, because they are part of what Go's context costs.
//
// Memory: heap growth (runtime.MemStats.HeapAlloc) and heap objects allocated
// (MemStats.Mallocs) per live context over 100k live contexts. A Go context is the
// context value plus its CancelFunc closure; both are counted.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

const (
	quickN     = 200
	memN       = 100000
	treeFanout = 1000
	treeLeaves = 100
	treeNodes  = 1 + treeFanout + treeFanout*treeLeaves
	treeReps   = 10
)

var (
	quick     = flag.Bool("quick", false, "tiny fixed counts: prove every operation runs")
	benchtime = flag.Float64("benchtime", 0.25, "seconds per timed run")
	count     = flag.Int("count", 4, "timed runs per operation (best is reported)")
	filter    = flag.String("filter", "", "run only operations whose name contains this")
)

var sink uint64

func selected(name string) bool {
	return *filter == "" || strings.Contains(name, *filter)
}

func report(name string, value float64, unit string, n uint64) {
	if math.IsNaN(value) {
		fmt.Printf("%s nan %s %d\n", name, unit, n)
	} else {
		fmt.Printf("%s %.2f %s %d\n", name, value, unit, n)
	}
}

func die(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(2)
}

// predictN is Go's testing.B predictN: aim for goal, overshoot by 20%, grow at most
// 100x, at least by one.
func predictN(goalNs float64, prevN uint64, prevNs float64) uint64 {
	if prevNs <= 0 {
		prevNs = 1
	}
	n := goalNs * float64(prevN) / prevNs
	n += n / 5
	n = math.Min(n, 100*float64(prevN))
	n = math.Max(n, float64(prevN)+1)
	n = math.Min(n, 1e9)
	return uint64(n)
}

// runN is one timed run, after a GC as testing.B does.
func runN(fn func(n uint64) time.Duration, n uint64) float64 {
	runtime.GC()
	return float64(fn(n).Nanoseconds())
}

// runBench measures fn; opsPerN is how many operations one unit of n performs.
func runBench(name string, fn func(n uint64) time.Duration, opsPerN uint64) {
	if !selected(name) {
		return
	}
	if *quick {
		ns := runN(fn, quickN)
		report(name, ns/float64(quickN*opsPerN), "ns/op", quickN*opsPerN)
		return
	}
	goal := *benchtime * 1e9
	warmGoal := goal / 10
	n := uint64(1)
	ns := runN(fn, n)
	for ns < warmGoal && n < 1000000000 {
		n = predictN(warmGoal, n, ns)
		ns = runN(fn, n)
	}
	if ns <= 0 {
		ns = 1
	}
	scaled := goal * float64(n) / ns
	n = uint64(math.Max(1, math.Min(scaled, 4e9)))

	best := math.Inf(1)
	for r := 0; r < *count; r++ {
		perOp := runN(fn, n) / float64(n*opsPerN)
		best = math.Min(best, perOp)
	}
	report(name, best, "ns/op", n*opsPerN)
}

// ---- Operations ----------------------------------------------------------------------

// with_cancel: WithCancel(Background) + cancel.
func opWithCancel(n uint64) time.Duration {
	bg := context.Background()
	t0 := time.Now()
	for i := uint64(0); i < n; i++ {
		_, cancel := context.WithCancel(bg)
		cancel()
	}
	return time.Since(t0)
}

// with_cancel_child: WithCancel(p) + cancel, p a long-lived cancellable parent.
func opWithCancelChild(parent context.Context) func(uint64) time.Duration {
	return func(n uint64) time.Duration {
		t0 := time.Now()
		for i := uint64(0); i < n; i++ {
			_, cancel := context.WithCancel(parent)
			cancel()
		}
		return time.Since(t0)
	}
}

// with_timeout: WithTimeout(Background, 1h) + cancel (arms and stops a timer).
func opWithTimeout(n uint64) time.Duration {
	bg := context.Background()
	t0 := time.Now()
	for i := uint64(0); i < n; i++ {
		_, cancel := context.WithTimeout(bg, time.Hour)
		cancel()
	}
	return time.Since(t0)
}

// done_check: the idiomatic non-blocking check, select on Done() with a default, on a
// cancelled context.
func opDoneCheck(done context.Context) func(uint64) time.Duration {
	return func(n uint64) time.Duration {
		hits := uint64(0)
		t0 := time.Now()
		for i := uint64(0); i < n; i++ {
			select {
			case <-done.Done():
				hits++
			default:
			}
		}
		d := time.Since(t0)
		if hits != n {
			die("done_check: context not done")
		}
		sink = hits
		return d
	}
}

// value_depth8: Value from the bottom of a chain of 8 WithValue contexts, for the key
// set at the top. Keys are pointers, compared by address, as in C.
type valueKey struct{ n int }

func opValueDepth8(bottom context.Context, key *valueKey) func(uint64) time.Duration {
	return func(n uint64) time.Duration {
		found := uint64(0)
		t0 := time.Now()
		for i := uint64(0); i < n; i++ {
			if bottom.Value(key) != nil {
				found++
			}
		}
		d := time.Since(t0)
		if found != n {
			die("value_depth8: key not found")
		}
		sink = found
		return d
	}
}

// two_threads_shared_parent: two goroutines (GOMAXPROCS = cores) each run
// n x (WithCancel(p) + cancel) on one shared parent; the wall time covers both.
func opTwoThreads(parent context.Context) func(uint64) time.Duration {
	return func(n uint64) time.Duration {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := uint64(0); i < n; i++ {
					_, cancel := context.WithCancel(parent)
					cancel()
				}
			}()
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		return time.Since(t0)
	}
}

// tree_cancel_1000x100: build root -> 1000 children -> 100 children each (101,001
// contexts) outside the clock, time cancelling the root alone. After building, a GC
// runs so the collection the build triggered does not overlap the timed cancel (the C
// side likewise frees outside the clock). Best of treeReps trees.
func benchTreeCancel() {
	const name = "tree_cancel_1000x100"
	if !selected(name) {
		return
	}
	cancels := make([]context.CancelFunc, 0, treeNodes)
	var last context.Context
	reps := treeReps + 1 // the first tree is a warm-up
	if *quick {
		reps = 1
	}
	best := int64(math.MaxInt64)
	for r := 0; r < reps; r++ {
		cancels = cancels[:0]
		root, cancelRoot := context.WithCancel(context.Background())
		cancels = append(cancels, cancelRoot)
		for i := 0; i < treeFanout; i++ {
			mid, cancelMid := context.WithCancel(root)
			cancels = append(cancels, cancelMid)
			for j := 0; j < treeLeaves; j++ {
				var cancelLeaf context.CancelFunc
				last, cancelLeaf = context.WithCancel(mid)
				cancels = append(cancels, cancelLeaf)
			}
		}
		runtime.GC()
		t0 := time.Now()
		cancelRoot()
		ns := time.Since(t0).Nanoseconds()
		if last.Err() == nil {
			die("tree_cancel: leaf not done")
		}
		for i := len(cancels) - 1; i >= 0; i-- {
			cancels[i]()
		}
		if (*quick || r > 0) && ns < best {
			best = ns
		}
	}
	trees := uint64(treeReps)
	if *quick {
		trees = 1
	}
	report(name, float64(best), "ns/tree", trees)
	report("tree_cancel_1000x100_per_node", float64(best)/treeNodes, "ns/node",
		trees*treeNodes)
}

// ---- Memory --------------------------------------------------------------------------

type memKind int

const (
	memCancel memKind = iota
	memChild
	memTimeout
)

func benchMemory(what string, kind memKind) {
	name := "bytes_per_" + what + "_ctx"
	if !selected(name) && !selected("memory") {
		return
	}
	n := memN
	if *quick {
		n = quickN
	}
	var parent context.Context = context.Background()
	cancelParent := func() {}
	if kind == memChild {
		parent, cancelParent = context.WithCancel(context.Background())
	}
	make1 := func() (context.Context, context.CancelFunc) {
		if kind == memTimeout {
			return context.WithTimeout(parent, time.Hour)
		}
		return context.WithCancel(parent)
	}
	for i := 0; i < 64; i++ {
		_, cancel := make1()
		cancel()
	}
	ctxs := make([]context.Context, n)
	cancels := make([]context.CancelFunc, n)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for i := 0; i < n; i++ {
		ctxs[i], cancels[i] = make1()
	}
	runtime.ReadMemStats(&m1)
	for i := n - 1; i >= 0; i-- {
		cancels[i]()
	}
	cancelParent()
	runtime.KeepAlive(ctxs)

	report(name, float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/float64(n), "B/ctx",
		uint64(n))
	report("allocs_per_"+what+"_ctx", float64(m1.Mallocs-m0.Mallocs)/float64(n),
		"allocs/ctx", uint64(n))
	// Go does not expose requested sizes; its heap figure has no per-object header.
	report("reqbytes_per_"+what+"_ctx", math.NaN(), "B/ctx", uint64(n))
}

func main() {
	flag.Parse()
	if *benchtime <= 0 || *count < 1 {
		flag.Usage()
		os.Exit(2)
	}
	fmt.Printf("# bench_go lang=go runtime=%s quick=%v benchtime=%.3fs count=%d gomaxprocs=%d\n",
		runtime.Version(), *quick, *benchtime, *count, runtime.GOMAXPROCS(0))
	fmt.Println("# name value unit count")

	runBench("with_cancel", opWithCancel, 1)

	parent, cancelParent := context.WithCancel(context.Background())
	runBench("with_cancel_child", opWithCancelChild(parent), 1)

	runBench("with_timeout", opWithTimeout, 1)

	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	runBench("done_check", opDoneCheck(done), 1)

	var keys [8]*valueKey
	var bottom context.Context = context.Background()
	for i := range keys {
		keys[i] = &valueKey{i}
		bottom = context.WithValue(bottom, keys[i], keys[i])
	}
	runBench("value_depth8", opValueDepth8(bottom, keys[0]), 1)

	benchTreeCancel()

	runBench("two_threads_shared_parent", opTwoThreads(parent), 2)
	cancelParent()

	benchMemory("cancel", memCancel)
	benchMemory("child", memChild)
	benchMemory("timeout", memTimeout)
}
