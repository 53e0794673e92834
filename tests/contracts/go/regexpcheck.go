// regexpcheck compiles patterns with Go's regexp, the engine the SSM Agent validates document
// parameters with (regexp.Compile, then MatchString), and matches values against them.
//
// stdin:  [{"pattern": "...", "values": ["...", ...]}, ...]
// stdout: [{"error": "" or the compile error, "matches": [true, false, ...]}, ...]
package main

import (
	"encoding/json"
	"os"
	"regexp"
)

type check struct {
	Pattern string   `json:"pattern"`
	Values  []string `json:"values"`
}

type verdict struct {
	Error   string `json:"error"`
	Matches []bool `json:"matches"`
}

func main() {
	var checks []check
	if err := json.NewDecoder(os.Stdin).Decode(&checks); err != nil {
		panic(err)
	}
	verdicts := make([]verdict, 0, len(checks))
	for _, c := range checks {
		v := verdict{Matches: []bool{}}
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			v.Error = err.Error()
		} else {
			for _, value := range c.Values {
				v.Matches = append(v.Matches, re.MatchString(value))
			}
		}
		verdicts = append(verdicts, v)
	}
	if err := json.NewEncoder(os.Stdout).Encode(verdicts); err != nil {
		panic(err)
	}
}
