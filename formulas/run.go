package formulas

import (
	"fmt"
	"sync"

	"github.com/expr-lang/expr/vm"
)

// vms reuses virtual machines (a vm.Program is safe for concurrent use, a
// vm.VM is not).
var vms = sync.Pool{New: func() any { return &vm.VM{MemoryBudget: MemoryBudget} }}

// run evaluates a program with the memory budget, turning any panic into an
// error.
func run(p *vm.Program, env map[string]any) (out any, err error) {
	m := vms.Get().(*vm.VM)
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("evaluation failed: %v", r)
			return
		}
		vms.Put(m)
	}()
	return m.Run(p, env)
}
