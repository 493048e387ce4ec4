// Package profiling writes pprof profiles of a benchmark gateway, so that
// a run of the driver with -profile shows where a gateway spends its time
// under load.
package profiling

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// Start starts a CPU profile into cpuFile unless it is empty. The returned
// stop function ends it and, unless memFile is empty, writes an
// allocation profile (every allocation since the start of the process)
// into memFile.
func Start(cpuFile, memFile string) (stop func() error, err error) {
	var cpu *os.File
	if cpuFile != "" {
		if cpu, err = os.Create(cpuFile); err != nil {
			return nil, fmt.Errorf("profiling: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("profiling: %w", err)
		}
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if memFile != "" {
			errs = append(errs, writeAllocs(memFile))
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("profiling: %w", err)
		}
		return nil
	}, nil
}

func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	err = pprof.Lookup("allocs").WriteTo(f, 0)
	return errors.Join(err, f.Close())
}
