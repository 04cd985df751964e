/*
 * test_jx.c — unit tests of the template engine, without a database.
 *
 * Each case is a template, the (enriched) data and either the expected
 * result, as compact sorted JSON, or the expected error.  Built with
 * AddressSanitizer and UndefinedBehaviorSanitizer by "make unit-test".
 *
 *	test_jx WORKFLOW	(WORKFLOW: Direktiv's httpget example, examples/httpget.yaml)
 *
 * js_flood.sh, beside it, stands in for nsvault-js in one case.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "nsvault.h"

#define lengthof(array) (sizeof(array) / sizeof((array)[0]))

/*
 * A result that would grow its evaluator must stop at the memory limit
 * this soon, with the evaluator at most this large (at 64 MB; the old
 * conversion took gigabytes, and the time limit)
 */
#define BOMB_MAX_SECONDS	6
#define BOMB_MAX_MB			256

const char *progname = "test_jx";

typedef struct Case
{
	const char *name;
	const char *template;
	const char *data;
	const char *expected;		/* compact sorted JSON, or NULL */
	const char *error;			/* expected error, or NULL */
} Case;

#define DATA "{\"n\": 5, \"f\": 0.1, \"whole\": 100.0, \"no\": false, \"s\": \"h\\u00e9llo\", " \
	"\"o\": {\"b\": 1, \"a\": [true, null]}, \"list\": [10, 20, 30], \"big\": 12345678901234, " \
	"\"k-y\": \"dash\", \"secrets\": {\"secretToken\": \"abc123\"}}"

/* what a jq runtime error says after the template path: jq's message may quote the data */
#define HIDDEN ": jq: error (the message is not shown: it may contain secret values)"

static const Case cases[] = {
	/* values other than strings are returned as they are */
	{"null", "null", DATA, "null", NULL},
	{"booleans", "[true, false]", DATA, "[true,false]", NULL},
	{"numbers", "[1, -2.5, 1e3, 100.0]", DATA, "[1,-2.5,1000,100]", NULL},
	{"nested", "{\"a\": {\"b\": [1, {\"c\": null}]}}", DATA, "{\"a\":{\"b\":[1,{\"c\":null}]}}", NULL},
	{"keys are literal", "{\"jq(.n)\": \"v\"}", DATA, "{\"jq(.n)\":\"v\"}", NULL},

	/* strings: trimmed, literal without jq( */
	{"literal", "\"hello\"", DATA, "\"hello\"", NULL},
	{"trimmed", "\"  \\t hello world \\n \"", DATA, "\"hello world\"", NULL},
	{"empty", "\"\"", DATA, "\"\"", NULL},
	{"blank", "\"   \"", DATA, "\"\"", NULL},
	{"parentheses alone", "\"(a) (b)\"", DATA, "\"(a) (b)\"", NULL},

	/* exactly one expression keeps its type */
	{"number", "\"jq(.n)\"", DATA, "5", NULL},
	{"object", "\"jq(.o)\"", DATA, "{\"a\":[true,null],\"b\":1}", NULL},
	{"trimmed expression", "\"  jq(.list)  \"", DATA, "[10,20,30]", NULL},
	{"false is a result", "\"jq(.no)\"", DATA, "false", NULL},
	{"whole data", "\"jq(.)\"", "{\"a\": 1}", "{\"a\":1}", NULL},
	{"string", "\"jq(.s)\"", DATA, "\"h\xc3\xa9llo\"", NULL},
	{"computed", "\"jq(.n * 2 + 1)\"", DATA, "11", NULL},
	{"integral real", "\"jq(.whole)\"", DATA, "100", NULL},
	{"fraction", "\"jq(1 / 3)\"", DATA, "0.3333333333333333", NULL},
	{"big integer", "\"jq(.big)\"", DATA, "12345678901234", NULL},
	{"array element", "\"jq(.list[1])\"", DATA, "20", NULL},
	{"negative index", "\"jq(.list[-1])\"", DATA, "30", NULL},
	{"quoted key", "\"jq(.[\\\"k-y\\\"])\"", DATA, "\"dash\"", NULL},
	{"pipe", "\"jq(.o | keys)\"", DATA, "[\"a\",\"b\"]", NULL},

	/* otherwise the parts are concatenated */
	{"Direktiv's example header", "\"bearer jq(.secrets.secretToken)\"", DATA, "\"bearer abc123\"", NULL},
	{"number in text", "\"n=jq(.n)\"", DATA, "\"n=5\"", NULL},
	{"real in text", "\"f=jq(.f) w=jq(.whole)\"", DATA, "\"f=0.1 w=100\"", NULL},
	{"object in text", "\"o=jq(.o)\"", DATA, "\"o={\\\"a\\\":[true,null],\\\"b\\\":1}\"", NULL},
	{"string raw in text", "\"<jq(.s)>\"", DATA, "\"\\u003ch\xc3\xa9llo\\u003e\"", NULL},
	{"two expressions", "\"jq(.n)-jq(.list[0])\"", DATA, "\"5-10\"", NULL},
	{"text around", "\"  a jq(.n) b  \"", DATA, "\"a 5 b\"", NULL},
	{"inside a word", "\"xjq(.n)y\"", DATA, "\"x5y\"", NULL},
	{"parentheses around", "\"(jq(.n))\"", DATA, "\"(5)\"", NULL},
	{"false in text", "\"is jq(.no)\"", DATA, "\"is false\"", NULL},
	{"nested parentheses", "\"v=jq((.n + (1 * 2)))\"", DATA, "\"v=7\"", NULL},

	/* trimming is Go's strings.TrimSpace: Unicode white space too */
	{"no-break spaces trimmed", "\"\xc2\xa0jq(.n)\xc2\xa0\"", DATA, "5", NULL},
	{"NEL and ideographic space trimmed", "\"\xc2\x85\xe3\x80\x80jq(.n)\xe2\x80\xa8\"", DATA, "5", NULL},
	{"other text kept", "\"\xc3\xa9jq(.n)\"", DATA, "\"\xc3\xa9" "5\"", NULL},

	/* an empty expression is the identity */
	{"empty jq", "\"jq()\"", "{\"a\": 1}", "{\"a\":1}", NULL},
	{"blank jq in text", "\"x jq( ) y\"", "{\"a\": 1}", "\"x {\\\"a\\\":1} y\"", NULL},

	/* numbers and JSON in text as Direktiv (Go's encoding/json) writes them */
	{"large number in text", "\"n=jq(1e17) m=jq(-1e17)\"", DATA, "\"n=100000000000000000 m=-100000000000000000\"", NULL},
	{"2^64 in text", "\"p=jq(pow(2; 64))\"", DATA, "\"p=18446744073709552000\"", NULL},
	{"small numbers in text", "\"a=jq(0.000001) b=jq(1e-7) c=jq(1.5e-10)\"", DATA,
		"\"a=0.000001 b=1e-7 c=1.5e-10\"", NULL},
	{"huge number in text", "\"h=jq(1e21) i=jq(1.25e300)\"", DATA, "\"h=1e+21 i=1.25e+300\"", NULL},
	/* gojq reads -0 as the integer 0 */
	{"negative zero in text", "\"z=jq(-0)\"", DATA, "\"z=0\"", NULL},
	{"escapes in text", "\"o=jq({s: \\\"<a&b>\\\"})\"", DATA,
		"\"o={\\\"s\\\":\\\"\\\\u003ca\\\\u0026b\\\\u003e\\\"}\"", NULL},
	{"NaN is an error", "\"jq(nan)\"", DATA, NULL, "input: jq: the result is not a number (NaN)"},
	{"NaN inside is an error", "\"jq([1, nan])\"", DATA, NULL, "input: jq: the result is not a number (NaN)"},
	{"keys in sorted order", "\"jq([.o[]] | first)\"", DATA, "[true,null]", NULL},
	{"tojson in sorted order", "\"jq(.o | tojson)\"", DATA, "\"{\\\"a\\\":[true,null],\\\"b\\\":1}\"", NULL},

	/* parentheses inside jq string literals do not count */
	{"open paren in string", "\"jq(\\\"(\\\" + .s)\"", DATA, "\"(h\xc3\xa9llo\"", NULL},
	{"close paren in string", "\"a jq(\\\")\\\") b\"", DATA, "\"a ) b\"", NULL},
	{"escaped quote in string", "\"jq(\\\"q\\\\\\\")\\\")\"", DATA, "\"q\\\")\"", NULL},
	{"interpolation", "\"jq(\\\"x\\\\(.n)y\\\")\"", DATA, "\"x5y\"", NULL},
	{"parens in interpolation", "\"<jq(\\\"\\\\((.n + 1))\\\")>\"", DATA, "\"\\u003c6\\u003e\"", NULL},
	{"string in interpolation", "\"jq(\\\"\\\\(\\\")\\\" + .s)\\\")\"", DATA, "\")h\xc3\xa9llo\"", NULL},

	/* arrays and objects, element by element */
	{"array of templates", "[\"jq(.n)\", \"lit\", 3]", DATA, "[5,\"lit\",3]", NULL},
	{"Direktiv's example input",
		"{\"method\": \"GET\", \"url\": \"https://jsonplaceholder.typicode.com/todos/1\", "
		"\"headers\": {\"Content-type\": \"application/json; charset=UTF-8\", "
		"\"Authorization\": \"bearer jq(.secrets.secretToken)\"}}",
		"{\"secrets\": {\"secretToken\": \"t0k\"}}",
		"{\"headers\":{\"Authorization\":\"bearer t0k\",\"Content-type\":\"application/json; charset=UTF-8\"},"
		"\"method\":\"GET\",\"url\":\"https://jsonplaceholder.typicode.com/todos/1\"}", NULL},

	/* errors, naming where */
	{"no results", "\"jq(.missing)\"", DATA, NULL, "input: jq: no results"},
	{"no results in text", "\"x jq(.missing)\"", DATA, NULL, "input: jq: no results"},
	{"null result", "\"jq(null)\"", DATA, NULL, "input: jq: no results"},
	{"empty", "\"jq(empty)\"", DATA, NULL, "input: jq: no results"},
	{"where", "{\"headers\": {\"Authorization\": \"bearer jq(.nope)\"}}", DATA, NULL,
		"input.headers.Authorization: jq: no results"},
	{"where in an array", "{\"l\": [\"ok\", \"jq(.zz)\"]}", DATA, NULL, "input.l[1]: jq: no results"},
	{"multiple outputs", "\"jq(.n, .n)\"", DATA, NULL, "input: jq: multiple outputs"},
	{"endless outputs", "\"jq(repeat(1))\"", DATA, NULL, "input: jq: multiple outputs"},
	{"missing bracket", "\"jq(.n\"", DATA, NULL, "input: jq: missing bracket"},
	{"missing bracket later", "\"a jq(.n) b jq((.n)\"", DATA, NULL, "input: jq: missing bracket"},
	{"bracket in string only", "\"jq(\\\")\\\"\"", DATA, NULL, "input: jq: missing bracket"},
	{"runtime error", "\"jq(.n | .x)\"", DATA, NULL, "input" HIDDEN},
	{"error after a result", "\"jq(1, error(\\\"boom\\\"))\"", DATA, NULL, "input" HIDDEN},
	{"syntax error", "\"jq(.n +)\"", DATA, NULL, "input: jq: syntax error, unexpected ')' (Unix shell quoting issues?)"},

	/* the environment and files are out of reach */
	{"env", "\"jq(env)\"", DATA, "{}", NULL},
	{"$ENV", "\"jq($ENV)\"", DATA, "{}", NULL},
	{"env.HOME", "\"jq(env.HOME)\"", DATA, NULL, "input: jq: no results"},
	{"$ENV.PATH", "\"jq($ENV.PATH)\"", DATA, NULL, "input: jq: no results"},
	{"import", "\"jq(import \\\"a\\\" as a; .)\"", DATA, NULL, "input: jq: syntax error, unexpected import (Unix shell quoting issues?)"},
	{"include", "\"jq(include \\\"a\\\"; .)\"", DATA, NULL, "input: jq: syntax error, unexpected include (Unix shell quoting issues?)"},
	{"stderr prints nothing", "\"jq(.secrets.secretToken | stderr)\"", DATA, "\"abc123\"", NULL},
	{"debug prints nothing", "\"jq(.secrets.secretToken | debug)\"", DATA, "\"abc123\"", NULL},
	{"input_filename", "\"jq(input_filename)\"", DATA, NULL, "input: jq: no results"},

	/* js(...): the body of a function of data */
	{"js value", "\"js(return data.n * 2)\"", DATA, "10", NULL},
	{"js string", "\"js(return data.s)\"", DATA, "\"h\xc3\xa9llo\"", NULL},
	{"js object", "\"js(return {b: 1, a: [data.n, null, undefined]})\"", DATA, "{\"a\":[5,null,null],\"b\":1}", NULL},
	{"js array with a hole", "\"js(return [1, , 3])\"", DATA, "[1,null,3]", NULL},
	{"js in text", "\"n=js(return data.n) s=js(return data.s)\"", DATA, "\"n=5 s=h\xc3\xa9llo\"", NULL},
	{"js object in text", "\"o=js(return {s: '<&>'})\"", DATA, "\"o={\\\"s\\\":\\\"\\\\u003c\\\\u0026\\\\u003e\\\"}\"", NULL},
	{"js beside jq", "\"jq(.n)+js(return 1)\"", DATA, "\"5+1\"", NULL},
	{"js sees the secrets", "\"bearer js(return data.secrets.secretToken)\"", DATA, "\"bearer abc123\"", NULL},
	{"js gets a copy", "\"js(data.n = 7; return 1) jq(.n)\"", DATA, "\"1 5\"", NULL},
	{"js numbers in text", "\"a=js(return 1e17) b=js(return 1e-7) c=js(return -0) d=js(return 0.1 + 0.2)\"", DATA,
		"\"a=100000000000000000 b=1e-7 c=-0 d=0.30000000000000004\"", NULL},
	/* numbers past 2^53 are float64 in goja, written as Go writes a float64 */
	{"js integer past 2^53", "\"js(return Math.pow(2, 60))\"", DATA, "1152921504606847000", NULL},
	{"js 2^63 - 1024", "\"js(return [Math.pow(2, 63) - 1024, -Math.pow(2, 60)])\"", DATA,
		"[9223372036854775000,-1152921504606847000]", NULL},
	{"js 2^53 in text", "\"a=js(return Math.pow(2, 53)) b=js(return Math.pow(2, 53) * 4 + 4)\"", DATA,
		"\"a=9007199254740992 b=36028797018963970\"", NULL},
	{"js surrogates", "\"js(return '\\\\ud83d\\\\ude00|\\\\ud800|' + '\xf0\x9f\x98\x80'.length)\"", DATA,
		"\"\xf0\x9f\x98\x80|\xef\xbf\xbd|2\"", NULL},
	{"js date", "\"js(return new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 500)))\"", DATA, "\"2020-01-02T03:04:05.5Z\"", NULL},
	{"js date in text", "\"at js(return new Date(1234))\"", DATA, "\"at \\\"1970-01-01T00:00:01.234Z\\\"\"", NULL},
	{"js date of year 0", "\"js(return new Date(-62167219200000))\"", DATA, "\"0000-01-01T00:00:00Z\"", NULL},
	{"js date before year 0", "\"js(return new Date(-62198755200000))\"", DATA, NULL,
		"input: js: the result holds a Date outside the years 0 to 9999, which JSON cannot represent"},
	{"js date after 9999", "\"x js(return [new Date(253402300800000)])\"", DATA, NULL,
		"input: js: the result holds a Date outside the years 0 to 9999, which JSON cannot represent"},
	{"js invalid date", "\"js(return new Date('x'))\"", DATA, NULL, "input: js: no results"},
	{"js invalid date inside", "\"js(return [new Date('x')])\"", DATA, "[null]", NULL},
	{"js not a date", "\"js(return Object.create(Date.prototype))\"", DATA, "{}", NULL},

	/* symbols by their description; wrappers as goja exports them */
	{"js symbol", "\"js(return [Symbol('x'), Symbol(), Symbol.iterator, Object(Symbol('y'))])\"", DATA,
		"[\"x\",\"\",\"Symbol.iterator\",\"y\"]", NULL},
	{"js symbol in text", "\"s=js(return Symbol('x'))\"", DATA, "\"s=x\"", NULL},
	{"js Boolean and Number objects", "\"js(return [new Boolean(false), new Number(5), new Number(Math.pow(2, 60))])\"",
		DATA, "[false,5,1152921504606847000]", NULL},
	{"js Boolean object alone", "\"js(return new Boolean(false))\"", DATA, "false", NULL},
	{"js String object", "\"js(var s = new String('ab'); s.x = 1; s[5] = 2; return [new String('s'), s])\"", DATA,
		"[{},{\"5\":2,\"x\":1}]", NULL},
	{"js typed arrays and buffers", "\"js(var a = new Uint8Array([1, 2]); a.x = 1; var b = new ArrayBuffer(2); b.y = 1; "
		"return [new Uint8Array([1, 2]), a, b, new DataView(b)])\"", DATA, "[{},{\"x\":1},{},{}]", NULL},
	{"js btoa and atob", "\"js(return btoa('h\xc3\xa9') + ' ' + atob('aMOp'))\"", DATA, "\"aMOp h\xc3\xa9\"", NULL},
	{"js null", "\"js(return null)\"", DATA, NULL, "input: js: no results"},
	{"js undefined", "\"js(var x = 1)\"", DATA, NULL, "input: js: no results"},
	{"js empty", "\"a js() b\"", DATA, NULL, "input: js: no results"},
	{"js NaN", "\"js(return [0 / 0])\"", DATA, NULL,
		"input: js: the result holds a number that JSON cannot represent (NaN or an infinity)"},
	{"js function", "\"js(return {f: function () {}})\"", DATA, NULL,
		"input: js: the result holds a function, which JSON cannot represent"},
	{"js cycle", "\"js(var o = {}; o.o = o; return o)\"", DATA, NULL,
		"input: js: the result is nested too deeply, or refers to itself"},
	{"js syntax error", "\"js(return 1 +)\"", DATA, NULL, "input: js: SyntaxError: parse error (line 3, end of input)"},
	{"js runtime error", "\"js(return data.nope.x)\"", DATA, NULL,
		"input: js: TypeError (the message is not shown: it may contain secret values)"},
	{"js template literal", "\"js(return `x`)\"", DATA, NULL, "input: js: SyntaxError: invalid token (line 2)"},

	{"js __proto__ in the data is a property", "\"js(return Object.keys(data).join() + typeof data.x)\"",
		"{\"__proto__\": {\"x\": 1}, \"a\": 2}", "\"__proto__,aundefined\"", NULL},

	/* each expression starts from the same untouched global object */
	{"js changes built-ins", "\"js(Array.prototype.join = function () { return 'x'; }; "
		"Object.prototype.y = 1; leak = data.secrets.secretToken; return [1, 2].join('-') + {}.y)\"", DATA, "\"x1\"", NULL},
	{"js the next one sees none of it", "\"js(return [1, 2].join('-') + typeof {}.y + typeof leak)\"", DATA,
		"\"1-2undefinedundefined\"", NULL},

	/* the closing parenthesis, by JavaScript's lexical rules */
	{"js paren in strings", "\"js(return ')' + \\\"(\\\")\"", DATA, "\")(\"", NULL},
	{"js paren in a block comment", "\"js(return 1 /* ) */ + 1)\"", DATA, "2", NULL},
	{"js paren in a line comment", "\"js(return 2 // )\\n)\"", DATA, "2", NULL},
	{"js paren in a regular expression", "\"js(return /[)]\\\\)/.test('))'))\"", DATA, "true", NULL},
	{"js division is no regular expression", "\"js(return (8) / 2 / 2)\"", DATA, "2", NULL},
	{"js paren in a template literal", "\"a js(`)${ ')' }`) b\"", DATA, NULL, "input: js: SyntaxError: invalid token (line 2)"},
	{"js missing bracket", "\"js(return ')'\"", DATA, NULL, "input: js: missing bracket"},
	{"js unterminated comment", "\"x js(return 1 /* )\"", DATA, NULL, "input: js: missing bracket"},
	{"js line comment on the last line", "\"a js(return 1 // f(x)) b\"", DATA, "\"a 1 b\"", NULL},
	{"js line comment, no closing", "\"js(return 1 // (\"", DATA, NULL, "input: js: missing bracket"},

	/* a jq comment runs to its line's end; on the last line, to Direktiv's closing ")" */
	{"jq quote in a comment", "\"jq(.n # it's \\\")\"", DATA, "5", NULL},
	{"jq paren in a comment", "\"jq(.n # (\\n)\"", DATA, "5", NULL},
	{"jq hash in a string", "\"jq(\\\"#)\\\")\"", DATA, "\"#)\"", NULL},

	/* a NUL does not cut a template */
	{"NUL in literal text", "\"a\\u0000b jq(.n)\\u0000\"", DATA, "\"a\\u0000b 5\\u0000\"", NULL},
	{"NUL alone", "\"\\u0000\"", DATA, "\"\\u0000\"", NULL},
	{"NUL in a jq string", "\"jq(\\\"\\u0000\\\")\"", DATA, "\"\\u0000\"", NULL},

	/* a negative zero: gojq's -0 is the integer 0, its -0.0 a float64 */
	{"jq -0.0", "[\"jq(-0.0)\", \"jq(-0)\", \"jq(-1 * 0)\", \"jq([0.0] | map(-.))\"]", DATA,
		"[-0,0,0,[-0]]", NULL},

	/* nothing to reach */
	{"js require", "\"js(return typeof require + typeof module + typeof process)\"", DATA,
		"\"undefinedundefinedundefined\"", NULL},
	{"js eval reaches nothing more", "\"js(return eval('typeof require + typeof Duktape'))\"", DATA,
		"\"undefinedundefined\"", NULL},
	{"js globals", "\"js(return Object.getOwnPropertyNames(this).sort().join())\"", DATA,
		"\"Array,ArrayBuffer,Boolean,DataView,Date,Error,EvalError,Float32Array,Float64Array,"
		"Function,Infinity,Int16Array,Int32Array,Int8Array,JSON,Math,NaN,Number,Object,Proxy,"
		"RangeError,ReferenceError,Reflect,RegExp,String,Symbol,SyntaxError,TypeError,URIError,"
		"Uint16Array,Uint32Array,Uint8Array,Uint8ClampedArray,atob,btoa,decodeURI,"
		"decodeURIComponent,encodeURI,encodeURIComponent,escape,eval,globalThis,isFinite,isNaN,"
		"parseFloat,parseInt,undefined,unescape\"", NULL},
};

static int
run_case(const Case *c)
{
	json_error_t parse_error;
	json_t	   *template = json_loads(c->template, JSON_DECODE_ANY | JSON_ALLOW_NUL, &parse_error);
	json_t	   *data = json_loads(c->data, 0, &parse_error);
	char		error[1024] = "";
	json_t	   *result;
	char	   *text = NULL;
	int			ok;

	if (template == NULL || data == NULL)
	{
		printf("not ok - %s: test case does not parse\n", c->name);
		json_decref(template);
		json_decref(data);
		return 0;
	}
	result = jx_evaluate(template, data, error, sizeof(error));
	if (result != NULL)
		text = json_text(result);
	if (c->expected != NULL)
		ok = text != NULL && strcmp(text, c->expected) == 0;
	else
		ok = result == NULL && strcmp(error, c->error) == 0;
	if (ok)
		printf("ok - %s\n", c->name);
	else
		printf("not ok - %s\n#   got:      %s\n#   expected: %s\n", c->name,
			   text ? text : error, c->expected ? c->expected : c->error);
	free(text);
	json_decref(result);
	json_decref(template);
	json_decref(data);
	return ok;
}

/*
 * Expressions compiled together (jx_stage, then jx_compile_staged) must
 * give what each gives compiled alone: these try what could tell the two
 * apart.  Each runs alone first, then all again as one batch window.
 */
static const Case group_cases[] = {
	{"a template's own length", "\"jq(def length: 99; .list | length)\"", DATA, NULL, NULL},
	{"length after it", "\"jq(.list | length)\"", DATA, NULL, NULL},
	{"a comment that hides a parenthesis", "\"jq(1 # (\\n) | (.n)\"", DATA, NULL, NULL},
	{"a comment at the end", "\"jq(.n # the count\\n)\"", DATA, NULL, NULL},
	{"the line of __loc__", "\"jq($__loc__.line)\"", DATA, NULL, NULL},
	{"a syntax error", "\"jq(.n +)\"", DATA, NULL, NULL},
	{"an undefined variable", "\"jq($i + 1)\"", DATA, NULL, NULL},
	{"an undefined function", "\"jq(t0)\"", DATA, NULL, NULL},
	{"an unclosed bracket", "\"jq([.n)\"", DATA, NULL, NULL},
	{"a runtime error", "\"jq(.s + 1)\"", DATA, NULL, NULL},
	{"no input", "\"jq(input)\"", DATA, NULL, NULL},
	{"the environment", "\"jq([env, $ENV])\"", DATA, NULL, NULL},
	{"an interpolation", "\"jq(\\\"a\\\\(.n)b\\\")\"", DATA, NULL, NULL},
	{"a parenthesis in a string", "\"jq(\\\")\\\" + .s)\"", DATA, NULL, NULL},
	{"several outputs", "\"jq(.list[])\"", DATA, NULL, NULL},
	{"no output", "\"jq(empty)\"", DATA, NULL, NULL},
	{"a label", "\"jq(label $out | .list[] | if . > 15 then ., break $out else empty end)\"", DATA, NULL, NULL},
	{"paths", "\"jq([paths] | length)\"", DATA, NULL, NULL},
	{"two in one string", "\"n=jq(.n * 3) s=jq(.s | ascii_downcase)\"", DATA, NULL, NULL},
	{"halt", "\"jq(halt)\"", DATA, NULL, NULL},
};

/* c's outcome: its result as compact sorted JSON, or "error: " and the error. */
static char *
outcome(const Case *c)
{
	json_error_t parse_error;
	json_t	   *template = json_loads(c->template, JSON_DECODE_ANY | JSON_ALLOW_NUL, &parse_error);
	json_t	   *data = json_loads(c->data, 0, &parse_error);
	char		error[1024] = "";
	json_t	   *result = jx_evaluate(template, data, error, sizeof(error));
	char	   *text;

	if (result != NULL)
		text = json_text(result);
	else if ((text = malloc(strlen(error) + 8)) != NULL)
		sprintf(text, "error: %s", error);
	json_decref(result);
	json_decref(template);
	json_decref(data);
	return text;
}

/* Stages the templates of list and compiles them as a batch window would. */
static void
stage_all(const Case *list, size_t n)
{
	json_error_t parse_error;

	for (size_t i = 0; i < n; i++)
	{
		json_t	   *template = json_loads(list[i].template, JSON_DECODE_ANY | JSON_ALLOW_NUL, &parse_error);

		jx_stage(template);
		json_decref(template);
	}
	jx_compile_staged();
}

/* Runs list alone, then grouped: each outcome must be the same. */
static int
run_grouped_cases(const Case *list, size_t n, const char *what)
{
	char	  **alone = calloc(n, sizeof(char *));
	int			passed = 0;

	for (size_t i = 0; i < n; i++)
	{
		jx_reset();
		alone[i] = outcome(&list[i]);
	}
	jx_reset();
	stage_all(list, n);
	for (size_t i = 0; i < n; i++)
	{
		char	   *grouped = outcome(&list[i]);

		if (strcmp(grouped, alone[i]) == 0)
		{
			printf("ok - grouped %s: %s\n", what, list[i].name);
			passed++;
		}
		else
			printf("not ok - grouped %s: %s\n#   grouped: %s\n#   alone:   %s\n",
				   what, list[i].name, grouped, alone[i]);
		free(grouped);
		free(alone[i]);
	}
	free(alone);
	jx_reset();
	return passed;
}

/*
 * 200 distinct expressions staged together compile in groups: well under
 * the 22 ms one costs alone in libjq 1.6.
 */
static int
run_group_speed_case(void)
{
	Case		list[200];
	char		templates[200][32];
	struct timespec start, end;
	double		ms;
	int			ok = 1;

	for (int i = 0; i < 200; i++)
	{
		snprintf(templates[i], sizeof(templates[i]), "\"jq(.n + %d)\"", i);
		list[i] = (Case) {"", templates[i], "{\"n\": 1}", NULL, NULL};
	}
	jx_reset();
	clock_gettime(CLOCK_MONOTONIC, &start);
	stage_all(list, 200);
	for (int i = 0; i < 200; i++)
	{
		char	   *got = outcome(&list[i]);
		char		want[16];

		snprintf(want, sizeof(want), "%d", i + 1);
		ok = ok && strcmp(got, want) == 0;
		free(got);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	ms = ((end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) / 1e6) / 200;
	ok = ok && ms < 5.0;
	printf("%s - 200 distinct expressions staged together: %.2f ms each\n", ok ? "ok" : "not ok", ms);
	jx_reset();
	return ok;
}

/*
 * Template errors carry no secret.  Each template below makes jq fail on
 * a secret; the error must name the place and the kind, and hold no part
 * of either secret in any form a jq message could quote: the value, its
 * JSON escaping, its base64, or (for a secret that is base64 text) what
 * it decodes to.  "token" has a quote and a backslash, so its JSON escaping
 * differs from it; "encoded" is the base64 of SECRET_PLAIN.
 */
#define SECRET_TOKEN "Zq9xKw7Vm\"Pd\\Tn/Rb3Lh"
#define SECRET_PLAIN "Kx7!Vm2#Pd9$Lw4%"
#define SECRET_WHERE "input.headers.Authorization"
#define LEAK_WINDOW 4

static const char *const secret_templates[] = {
	"jq(error(.secrets.token))",
	"jq(.secrets.token|error)",
	"jq(1, error(.secrets.token))",
	"jq({a: .secrets.token}|error)",
	"jq(.secrets|error)",
	"jq(.secrets.token|tonumber)",
	"jq(.secrets.token|fromjson)",
	"jq(.secrets.token + 1)",
	"bearer jq(.secrets.token + 1)",
	"jq(.secrets.token|keys)",
	"jq(.secrets.token|test(\"[\"))",
	"jq(.secrets.token as $s | \"x\" | test(\"x\"; $s))",
	"jq(.secrets.token|@base64|error)",
	"jq(.secrets.token|@base64d|tonumber)",
	"jq(.secrets.encoded|@base64d|tonumber)",
	"jq(\"t=\\(.secrets.token)\"|error)",
	"x jq(\"\\(.secrets.token|tonumber)\") y",
	"a jq(.n) b jq(\"\\(.secrets.encoded|@base64d)\"|error) c",
};

/* js(...) templates that fail on a secret: the error names only the kind */
static const char *const secret_js_templates[] = {
	"js(throw new Error(data.secrets.token))",
	"js(throw data.secrets.token)",
	"js(throw {name: data.secrets.token, message: data.secrets.token})",
	"js(var e = new TypeError(data.secrets.token); e.name = data.secrets.token; throw e)",
	"js(return null[data.secrets.token])",
	"bearer js(return data.secrets.token.x.y)",
	"js(return JSON.parse(data.secrets.token))",
	"js(return eval(data.secrets.token))",
	"js(return decodeURIComponent('%' + data.secrets.token))",
	"js(return atob(data.secrets.token))",
	"js(return data.secrets[atob(data.secrets.encoded)]())",
	"js(return new RegExp(data.secrets.token + '['))",
};

/* Returns the base64 of s (standard alphabet, padded). */
static char *
base64(const char *s)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		len = strlen(s);
	char	   *out = malloc(4 * ((len + 2) / 3) + 1);
	char	   *p = out;

	for (size_t i = 0; i < len; i += 3)
	{
		unsigned long n = (unsigned long) (unsigned char) s[i] << 16;

		n |= (i + 1 < len) ? (unsigned long) (unsigned char) s[i + 1] << 8 : 0;
		n |= (i + 2 < len) ? (unsigned char) s[i + 2] : 0;
		*p++ = alphabet[(n >> 18) & 63];
		*p++ = alphabet[(n >> 12) & 63];
		*p++ = (i + 1 < len) ? alphabet[(n >> 6) & 63] : '=';
		*p++ = (i + 2 < len) ? alphabet[n & 63] : '=';
	}
	*p = '\0';
	return out;
}

/* Returns s as it stands inside a JSON string (these secrets need only " and \\). */
static char *
json_escaped(const char *s)
{
	char	   *out = malloc(2 * strlen(s) + 1);
	char	   *p = out;

	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p = '\0';
	return out;
}

/* Returns the first LEAK_WINDOW-byte piece of form found in text, or NULL. */
static const char *
leaked_piece(const char *text, const char *form)
{
	static char piece[LEAK_WINDOW + 1];

	for (size_t i = 0; i + LEAK_WINDOW <= strlen(form); i++)
	{
		memcpy(piece, form + i, LEAK_WINDOW);
		piece[LEAK_WINDOW] = '\0';
		if (strstr(text, piece) != NULL)
			return piece;
	}
	return NULL;
}

/*
 * Runs each of templates; returns how many passed.  Each must fail with an
 * error that starts with prefix and ends with suffix, and holds no piece of
 * a secret.
 */
static int
run_secret_cases(const char *const *templates, size_t ncases,
				 const char *prefix, const char *suffix)
{
	char	   *encoded = base64(SECRET_PLAIN);
	char	   *forms[7];
	json_t	   *data = json_pack("{s:i,s:{s:s,s:s}}", "n", 1, "secrets",
								 "token", SECRET_TOKEN, "encoded", encoded);
	const size_t nforms = sizeof(forms) / sizeof(forms[0]);
	int			passed = 0;

	forms[0] = strdup(SECRET_TOKEN);
	forms[1] = json_escaped(SECRET_TOKEN);
	forms[2] = base64(SECRET_TOKEN);
	forms[3] = strdup(encoded);
	forms[4] = base64(encoded);
	forms[5] = strdup(SECRET_PLAIN);
	forms[6] = json_escaped(SECRET_PLAIN);
	for (size_t i = 0; i < ncases; i++)
	{
		json_t	   *template = json_pack("{s:{s:s}}", "headers", "Authorization",
										 templates[i]);
		char		error[1024] = "";
		json_t	   *result = jx_evaluate(template, data, error, sizeof(error));
		const char *piece = NULL;
		size_t		len = strlen(error);
		bool		ok;

		for (size_t f = 0; f < nforms && piece == NULL; f++)
			piece = leaked_piece(error, forms[f]);
		ok = result == NULL && piece == NULL &&
			strncmp(error, prefix, strlen(prefix)) == 0 &&
			len >= strlen(suffix) && strcmp(error + len - strlen(suffix), suffix) == 0;
		printf("%s - no secret in the error of %s\n", ok ? "ok" : "not ok", templates[i]);
		if (piece != NULL)
			printf("#   the error holds \"%s\" of a secret\n", piece);
		if (!ok)
			printf("#   got:      %s\n#   expected: %s...%s\n",
				   result ? "a result" : error, prefix, suffix);
		passed += ok;
		json_decref(result);
		json_decref(template);
	}
	for (size_t f = 0; f < nforms; f++)
		free(forms[f]);
	free(encoded);
	json_decref(data);
	return passed;
}

/*
 * A template that runs out of time or memory fails alone: the next one
 * evaluates as usual.
 */
static int
run_limit_case(const char *name, const char *template_text, int seconds, int megabytes,
			   const char *expected)
{
	json_t	   *template = json_string(template_text);
	json_t	   *after = json_string("js(return 'after')");
	json_t	   *data = json_pack("{s:i}", "n", 1);
	char		error[1024] = "";
	json_t	   *result;
	json_t	   *next;
	int			ok;

	js_set_limits(seconds, megabytes);
	result = jx_evaluate(template, data, error, sizeof(error));
	ok = result == NULL && strcmp(error, expected) == 0;
	next = jx_evaluate(after, data, error + strlen(error), sizeof(error) - strlen(error));
	ok = ok && next != NULL && strcmp(json_string_value(next), "after") == 0;
	js_set_limits(JS_DEFAULT_TIME_LIMIT, JS_DEFAULT_MEMORY_LIMIT_MB);
	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	if (!ok)
		printf("#   got:      %s\n#   expected: %s\n", result ? "a result" : error, expected);
	json_decref(result);
	json_decref(next);
	json_decref(template);
	json_decref(after);
	json_decref(data);
	return ok;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A result that would grow its evaluator as it is converted or sent fails
 * alone at the memory limit of 64 MB: soon, and with the evaluator no
 * larger than BOMB_MAX_MB (the largest child so far, from getrusage).
 */
static int
run_result_bomb_case(const char *name, const char *template_text)
{
	double		start = now_seconds();
	int			ok = run_limit_case(name, template_text, JS_DEFAULT_TIME_LIMIT, JS_DEFAULT_MEMORY_LIMIT_MB,
									"input: js: the memory limit of 64 MB was reached");
	double		seconds = now_seconds() - start;
	struct rusage usage;
	long		largest_mb;
	int			bounded;

	getrusage(RUSAGE_CHILDREN, &usage);
	largest_mb = usage.ru_maxrss >> 10;
	bounded = seconds < BOMB_MAX_SECONDS && largest_mb < BOMB_MAX_MB;
	printf("%s - %s: in %.1f s, the largest evaluator so far %ld MB\n", bounded ? "ok" : "not ok",
		   name, seconds, largest_mb);
	return ok + bounded;
}

/* Puts standard error on a new file, for a while; returns the file's descriptor. */
static int
capture_stderr(char *path, int *saved)
{
	int			fd = mkstemp(path);

	fflush(stderr);
	*saved = dup(2);
	if (fd >= 0)
		dup2(fd, 2);
	return fd;
}

/* Puts standard error back; returns whether nothing was written to it meanwhile. */
static bool
release_stderr(const char *path, int fd, int saved)
{
	off_t		written = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;

	dup2(saved, 2);
	close(saved);
	if (fd >= 0)
		close(fd);
	remove(path);
	return written == 0;
}

/*
 * An answer larger than the memory limit stops the client reading at the
 * limit: the request fails alone, at once, and the evaluator is killed and
 * reaped.  The real nsvault-js cannot be made to write one; js_flood.sh
 * stands in for it, and writes to its standard error, which the client
 * must have put on /dev/null.
 */
static int
run_flood_case(const char *flood_path)
{
	char	   *helper = strdup(getenv("NSVAULT_JS_HELPER") ? getenv("NSVAULT_JS_HELPER") : "");
	char		stderr_path[] = "/tmp/test_jx-stderr-XXXXXX";
	int			saved_stderr;
	int			stderr_fd;
	json_t	   *template = json_string("js(return 1)");
	json_t	   *data = json_object();
	char		error[512] = "";
	json_t	   *result;
	double		start;
	double		seconds;
	bool		reaped;
	bool		quiet;
	int			ok;

	setenv("NSVAULT_JS_HELPER", flood_path, 1);
	js_set_limits(JS_DEFAULT_TIME_LIMIT, 8);
	stderr_fd = capture_stderr(stderr_path, &saved_stderr);
	start = now_seconds();
	result = jx_evaluate(template, data, error, sizeof(error));
	seconds = now_seconds() - start;
	reaped = waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
	quiet = release_stderr(stderr_path, stderr_fd, saved_stderr);
	js_set_limits(JS_DEFAULT_TIME_LIMIT, JS_DEFAULT_MEMORY_LIMIT_MB);
	if (helper[0] != '\0')
		setenv("NSVAULT_JS_HELPER", helper, 1);
	else
		unsetenv("NSVAULT_JS_HELPER");

	ok = result == NULL && strcmp(error, "input: js: the memory limit of 8 MB was reached") == 0;
	printf("%s - js: an answer larger than the memory limit fails alone\n", ok ? "ok" : "not ok");
	if (!ok)
		printf("#   got: %s\n", result ? "a result" : error);
	printf("%s - js: the client stops reading it at once (%.1f s) and reaps the evaluator\n",
		   seconds < BOMB_MAX_SECONDS && reaped ? "ok" : "not ok", seconds);
	printf("%s - js: the evaluator's standard error reaches nothing\n", quiet ? "ok" : "not ok");
	json_decref(result);
	json_decref(template);
	json_decref(data);
	free(helper);
	return ok + (seconds < BOMB_MAX_SECONDS && reaped) + quiet;
}

/* Direktiv's httpget example workflow file, through the YAML reader and the engine. */
static int
run_workflow_case(const char *path)
{
	char		error[512] = "";
	json_t	   *workflow = yaml_file_to_json(path, error, sizeof(error));
	json_t	   *data = json_pack("{s:{s:s}}", "secrets", "secretToken", "s3cr3t");
	const json_t *action;
	json_t	   *result;
	char	   *text = NULL;
	const char *expected =
		"{\"headers\":{\"Authorization\":\"bearer s3cr3t\",\"Content-type\":\"application/json; charset=UTF-8\"},"
		"\"method\":\"GET\",\"url\":\"https://jsonplaceholder.typicode.com/todos/1\"}";
	int			ok;

	action = json_object_get(json_array_get(json_object_get(workflow, "states"), 0), "action");
	result = action ? jx_evaluate(json_object_get(action, "input"), data, error, sizeof(error)) : NULL;
	if (result != NULL)
		text = json_text(result);
	ok = text != NULL && strcmp(text, expected) == 0;
	printf("%s - Direktiv's httpget example workflow\n", ok ? "ok" : "not ok");
	if (!ok)
		printf("#   got: %s\n", text ? text : error);
	free(text);
	json_decref(result);
	json_decref(data);
	json_decref(workflow);
	return ok;
}

/*
 * A YAML file as Direktiv reads a workflow (gopkg.in/yaml.v3, then
 * encoding/json): the JSON it becomes, or a part of the error it gives.
 */
typedef struct YamlCase
{
	const char *name;
	const char *yaml;
	const char *expected;		/* compact sorted JSON, or NULL */
	const char *error;			/* part of the expected error, or NULL */
} YamlCase;

static const YamlCase yaml_cases[] = {
	/* YAML 1.2's core schema, as before */
	{"YAML scalars", "i: -42\nf: 1.5\nhex: 0xff\nb: True\nn: ~\nt:\ns: yes\nq: \"123\"\n"
		"w: x y\nanchor: &a [1, 2]\nalias: *a\n",
		"{\"alias\":[1,2],\"anchor\":[1,2],\"b\":true,\"f\":1.5,\"hex\":255,\"i\":-42,"
		"\"n\":null,\"q\":\"123\",\"s\":\"yes\",\"t\":null,\"w\":\"x y\"}", NULL},

	/* merge keys: explicit keys win wherever they stand, earlier sources win */
	{"YAML merge: a key after <<", "base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\n",
		"{\"base\":{\"a\":1,\"b\":2},\"m\":{\"a\":1,\"b\":3}}", NULL},
	{"YAML merge: a key before <<", "base: &b {a: 1, b: 2}\nm:\n  b: 3\n  <<: *b\n",
		"{\"base\":{\"a\":1,\"b\":2},\"m\":{\"a\":1,\"b\":3}}", NULL},
	{"YAML merge: a list of sources", "x: &x {a: 1}\ny: &y {a: 2, c: 3}\nm: {<<: [*x, *y], d: 4}\n",
		"{\"m\":{\"a\":1,\"c\":3,\"d\":4},\"x\":{\"a\":1},\"y\":{\"a\":2,\"c\":3}}", NULL},
	{"YAML merge: a source's own merge comes after its keys",
		"c: &c {a: 0, z: 9}\nx: &x {<<: *c, a: 1}\nm: {<<: *x}\n",
		"{\"c\":{\"a\":0,\"z\":9},\"m\":{\"a\":1,\"z\":9},\"x\":{\"a\":1,\"z\":9}}", NULL},
	{"YAML merge: a mapping in place", "m:\n  <<: {a: 1, b: 1}\n  b: 2\n",
		"{\"m\":{\"a\":1,\"b\":2}}", NULL},
	{"YAML merge: a quoted << is a key", "m: {\"<<\": 1}\n",
		"{\"m\":{\"\\u003c\\u003c\":1}}", NULL},
	{"YAML merge: a sequence is refused", "s: &s [1]\nm:\n  <<: *s\n", NULL,
		"line 3: a merge key (<<) needs a mapping or a sequence of mappings"},
	{"YAML merge: a scalar is refused", "m: {<<: 1}\n", NULL, "line 1: a merge key"},

	/* explicit tags */
	{"YAML tags", "a: !!str 123\nb: !!int \"42\"\nc: !!bool true\nd: !!null null\ne: !!float 1\n"
		"f: !!str true\ng: !!float 2.5\nh: !custom 7\ni: ! 12\nj: !!str\n",
		"{\"a\":\"123\",\"b\":42,\"c\":true,\"d\":null,\"e\":1,\"f\":\"true\",\"g\":2.5,"
		"\"h\":\"7\",\"i\":12,\"j\":\"\"}", NULL},
	{"YAML tags: a !!str key", "!!str 1: x\n", "{\"1\":\"x\"}", NULL},
	{"YAML tags: !!int on text is refused", "a: 1\nb: !!int s3cr3t\n", NULL,
		"line 2: the scalar does not match its tag !!int"},
	{"YAML tags: !!bool on yes is refused", "a: !!bool yes\n", NULL,
		"line 1: the scalar does not match its tag !!bool"},
	{"YAML tags: !!null on text is refused", "a: !!null x\n", NULL, "line 1: the scalar does not match"},

	/* timestamps: unquoted, in one of yaml.v3's four forms */
	{"YAML timestamps", "d: 2001-12-14\nt: 2001-12-14t21:59:43.10-05:00\n"
		"s: 2001-12-14  21:59:43.10\nz: 2002-12-14T21:59:43.1234567891Z\nq: \"2001-12-14\"\n"
		"bad: 2001-02-30\nshort: 2001-1-5\nutc: 2001-12-14T10:00:00+00:00\n"
		"tag: !!timestamp 2004-02-29\nnot: 2001-12-14T25:00:00Z\n",
		"{\"bad\":\"2001-02-30\",\"d\":\"2001-12-14T00:00:00Z\",\"not\":\"2001-12-14T25:00:00Z\","
		"\"q\":\"2001-12-14\",\"s\":\"2001-12-14T21:59:43.1Z\",\"short\":\"2001-01-05T00:00:00Z\","
		"\"t\":\"2001-12-14T21:59:43.1-05:00\",\"tag\":\"2004-02-29T00:00:00Z\","
		"\"utc\":\"2001-12-14T10:00:00Z\",\"z\":\"2002-12-14T21:59:43.123456789Z\"}", NULL},

	/* integers as Go's strconv.ParseInt(s, 0, 64) reads them, _ removed */
	{"YAML integers", "a: 017\nb: 0b101\nc: 1_000\nd: 0x1F\ne: 0o17\nf: +12\ng: -0x10\nh: 08\n"
		"i: 0B11\nj: 1_0.5\nk: 0x\nl: 1e3\nm: 9223372036854775807\nn: 1__2\no: -0b101\np: 0.\n"
		"q: .5\nr: +.5\ns: 0x_1f\n",
		"{\"a\":15,\"b\":5,\"c\":1000,\"d\":31,\"e\":15,\"f\":12,\"g\":-16,\"h\":8,\"i\":3,"
		"\"j\":10.5,\"k\":\"0x\",\"l\":1000,\"m\":9223372036854775807,\"n\":12,\"o\":-5,\"p\":0,"
		"\"q\":0.5,\"r\":0.5,\"s\":31}", NULL},
	{"YAML numbers too large", "a: 1e400\nb: 0x1ffffffffffffffff\n",
		"{\"a\":\"1e400\",\"b\":\"0x1ffffffffffffffff\"}", NULL},

	/* what Direktiv's json.Marshal cannot write, or yaml.v3 refuses */
	{"YAML .inf is refused", "a: 1\nb: .inf\n", NULL, "line 2: an infinite or NaN number"},
	{"YAML -.Inf is refused", "a: [-.Inf]\n", NULL, "line 1: an infinite or NaN number"},
	{"YAML .nan is refused", "a: .NaN\n", NULL, "line 1: an infinite or NaN number"},
	{"YAML an integer key is refused", "1: x\n", NULL, "line 1: a mapping key is not a string"},
	{"YAML a boolean key is refused", "m: {true: 1}\n", NULL, "line 1: a mapping key is not a string"},
	{"YAML a null key is refused", "m:\n  ~: 1\n", NULL, "line 2: a mapping key is not a string"},
	{"YAML a timestamp key is refused", "2001-12-14: x\n", NULL, "line 1: a mapping key is not a string"},
	{"YAML a sequence key is refused", "? [a]\n: 1\n", NULL, "line 1: a mapping key is not a string"},
	{"YAML a duplicate key is refused", "s3cr3t: 1\nb: 2\ns3cr3t: 3\n", NULL,
		"line 3: a mapping key is already defined at line 1"},
	{"YAML a duplicate quoted key is refused", "m: {a: 1, \"a\": 2}\n", NULL,
		"line 1: a mapping key is already defined"},
	{"YAML a key may repeat in another mapping", "a: {x: 1}\nb: {x: 2}\n",
		"{\"a\":{\"x\":1},\"b\":{\"x\":2}}", NULL},
	{"YAML an alias to an unknown anchor is refused", "a: *nope\n", NULL, "line 1: an alias"},
	{"YAML an alias inside its own anchor is refused", "a: &x [1, *x]\n", NULL, "line 1: an alias"},
	{"YAML an anchor redefined around its alias is refused", "a: &x 1\nb: &x [*x]\n", NULL,
		"line 2: an alias"},
	{"YAML excessive aliasing is refused",
		"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n",
		NULL, "excessive aliasing"},
	{"YAML !!binary is refused", "a: !!binary aGVsbG8=\n", NULL, "line 1: the !!binary tag"},
	{"YAML a zone offset of 24 hours is refused", "a: 2001-12-14T10:00:00+24:00\n", NULL,
		"line 1: a timestamp's zone offset"},
	{"YAML a zone offset past Go's range is a string", "a: 2001-12-14T10:00:00+25:00\n",
		"{\"a\":\"2001-12-14T10:00:00+25:00\"}", NULL},
};

/* Reads text as a YAML file; NULL with the error on failure. */
static json_t *
yaml_text_to_json(const char *text, char *error, size_t error_len)
{
	char		path[] = "/tmp/test_jx-yaml-XXXXXX";
	int			fd = mkstemp(path);
	FILE	   *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	json_t	   *doc;

	if (f == NULL)
	{
		snprintf(error, error_len, "could not create %s", path);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	doc = yaml_file_to_json(path, error, error_len);
	remove(path);
	return doc;
}

/* Runs one YAML case; an error must not show the file's text. */
static int
run_yaml_case(const YamlCase *c)
{
	char		error[512] = "";
	json_t	   *doc = yaml_text_to_json(c->yaml, error, sizeof(error));
	char	   *text = doc ? json_text(doc) : NULL;
	int			ok;

	if (c->expected != NULL)
		ok = text != NULL && strcmp(text, c->expected) == 0;
	else
		ok = doc == NULL && strstr(error, c->error) != NULL && strstr(error, "s3cr3t") == NULL;
	printf("%s - %s\n", ok ? "ok" : "not ok", c->name);
	if (!ok)
		printf("#   got: %s\n", text ? text : error);
	free(text);
	json_decref(doc);
	return ok;
}

int
main(int argc, char **argv)
{
	int			passed = 0;
	int			total = 0;
	char		self[PATH_MAX];
	char		flood_path[PATH_MAX];

	if (argc != 2)
	{
		fprintf(stderr, "usage: test_jx WORKFLOW (Direktiv's httpget example, examples/httpget.yaml)\n");
		return 2;
	}
	if (realpath(argv[0], self) == NULL)
	{
		fprintf(stderr, "test_jx: cannot find its own directory\n");
		return 2;
	}
	snprintf(flood_path, sizeof(flood_path), "%s/js_flood.sh", dirname(self));

	for (size_t i = 0; i < lengthof(cases); i++, total++)
		passed += run_case(&cases[i]);
	passed += run_secret_cases(secret_templates, lengthof(secret_templates), SECRET_WHERE HIDDEN, "");
	total += lengthof(secret_templates);
	passed += run_secret_cases(secret_js_templates, lengthof(secret_js_templates),
							   SECRET_WHERE ": js: ", " (the message is not shown: it may contain secret values)");
	total += lengthof(secret_js_templates);
	passed += run_limit_case("js: an endless loop fails alone", "js(for (;;) {})", 1, 64,
							 "input: js: the time limit of 1 s was reached");
	passed += run_limit_case("js: an endless loop that catches fails alone",
							 "js(for (;;) { try { for (;;) {} } catch (e) {} })", 1, 64,
							 "input: js: the time limit of 1 s was reached");
	passed += run_limit_case("js: a memory bomb fails alone", "js(var s = 'x'; for (;;) s += s)", 10, 8,
							 "input: js: the memory limit of 8 MB was reached");
	passed += run_limit_case("js: a memory bomb of objects fails alone",
							 "js(var a = []; for (;;) a.push({n: a.length}))", 10, 8,
							 "input: js: the memory limit of 8 MB was reached");
	total += 4;
	passed += run_result_bomb_case("js: a result that refers to itself forty times over fails alone",
								   "js(var a = [1]; for (var i = 0; i < 40; i++) a = [a, a]; return a)");
	passed += run_result_bomb_case("js: a result that holds one 8 MB string 48 times fails alone",
								   "js(var s = 'x'.repeat(8 << 20), a = []; "
								   "for (var i = 0; i < 48; i++) a.push(s); return a)");
	passed += run_result_bomb_case("js: a result whose JSON text outgrows the limit fails alone",
								   "js(return '\\u0001'.repeat(16 << 20))");
	total += 6;
	passed += run_flood_case(flood_path);
	total += 3;
	passed += run_grouped_cases(group_cases, lengthof(group_cases), "expressions");
	total += lengthof(group_cases);
	passed += run_grouped_cases(cases, lengthof(cases), "cases");
	total += lengthof(cases);
	passed += run_group_speed_case();
	total += 1;
	passed += run_workflow_case(argv[1]);
	total += 1;
	for (size_t i = 0; i < lengthof(yaml_cases); i++, total++)
		passed += run_yaml_case(&yaml_cases[i]);
	jx_reset();
	printf("%d passed, %d failed\n", passed, total - passed);
	return passed == total ? 0 : 1;
}
