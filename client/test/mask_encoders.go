// mask_encoders.go — writes each value of a JSON array on standard input
// as Go's encoders write it, as mask_encoders.py writes its lines: the tool,
// the form, the value and the encoded value, those two in hex.  Its output
// with Debian's Go (1.19) is checked in as mask_encoders_go.tsv:
//
//	python3 mask_encoders.py --values | go run mask_encoders.go > mask_encoders_go.tsv
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
)

func record(form, value, encoded string) {
	fmt.Printf("go\t%s\t%x\t%x\n", form, value, encoded)
}

// jsonString is the inside of v as a JSON string, HTML escaping or not.
func jsonString(v string, html bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	s := strings.TrimSuffix(buf.String(), "\n")
	return s[1 : len(s)-1]
}

func main() {
	var values []string
	if err := json.NewDecoder(os.Stdin).Decode(&values); err != nil {
		panic(err)
	}
	for _, v := range values {
		record("json.Marshal", v, jsonString(v, true))
		record("json.Encoder SetEscapeHTML(false)", v, jsonString(v, false))
		record("url.PathEscape", v, url.PathEscape(v))
		record("url.QueryEscape", v, url.QueryEscape(v))
		record("url.Values.Encode", v, url.Values{"k": {v}}.Encode()[2:])
		withUser := (&url.URL{Scheme: "postgres", User: url.UserPassword("u", v), Host: "h"}).String()
		record("url.UserPassword", v, strings.TrimSuffix(strings.TrimPrefix(withUser, "postgres://u:"), "@h"))
		record("url.URL.EscapedPath", v, (&url.URL{Path: "/" + v}).EscapedPath()[1:])
	}
}
