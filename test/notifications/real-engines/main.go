// Renders Argo CD Notifications templates and evaluates trigger expressions with the real engines
// (Go text/template + sprig, expr), one JSON request per input line, one JSON answer per output line.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/antonmedv/expr"
)

type request struct {
	ID   string                 `json:"id"`
	Kind string                 `json:"kind"`
	Text string                 `json:"text"`
	Vars map[string]interface{} `json:"vars"`
}

type answer struct {
	ID    string `json:"id"`
	Value string `json:"value,omitempty"`
	Error string `json:"error,omitempty"`
}

func main() {
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024*1024), 64*1024*1024)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			panic(err)
		}
		res := answer{ID: req.ID}
		switch req.Kind {
		case "template":
			t, err := template.New(req.ID).Funcs(funcs).Parse(req.Text)
			if err == nil {
				var buf bytes.Buffer
				err = t.Execute(&buf, req.Vars)
				res.Value = buf.String()
			}
			if err != nil {
				res.Error = err.Error()
			}
		case "expr":
			prog, err := expr.Compile(req.Text)
			if err == nil {
				var val interface{}
				val, err = expr.Run(prog, req.Vars)
				res.Value = fmt.Sprintf("%v", val)
			}
			if err != nil {
				res.Error = err.Error()
			}
		}
		_ = out.Encode(res)
	}
}
