# mask_cases.py — writes mask_cases.inc, the table of test_mask.c: each form of
# a value at each alignment, computed by Python's own encoders, so that the
# masker is checked against code other than its own.  python3 mask_cases.py > mask_cases.inc
import base64, json, urllib.parse
def cstr(b):
    out='"'
    for x in b:
        c=chr(x)
        if c=='"' or c=='\\': out+='\\'+c
        elif 32<=x<127: out+=c
        else: out+='\\%03o'%x
    return out+'"'
def go_json(v):
    s=json.dumps(v,ensure_ascii=False)[1:-1]
    return s.replace('<','\\u003c').replace('>','\\u003e').replace('&','\\u0026').replace('\u2028','\\u2028').replace('\u2029','\\u2029')
cases=[]
values=["p4ss/w0rd+x?","s3cr\u00e9t\u2028<&>\"\\\t end","k3y with spaces & more", "\U0001F511token\u00fc!"]
for v in values:
    vb=v.encode()
    # base64 at each alignment, both alphabets, inside longer base64 text
    for pre in range(6):
        for post in range(3):
            blob=bytes(range(200,200+pre))+vb+bytes(range(100,100+post))
            for alpha in (base64.b64encode, base64.urlsafe_b64encode):
                enc=alpha(blob)
                first=(8*pre+5)//6; last=(8*(pre+len(vb)))//6
                if pre%3==0 and post==0:
                    exp=enc[:first]+b"***"
                else:
                    exp=enc[:first]+b"***"+enc[last:]
                if enc[first:last]==b'': continue
                cases.append((vb, b"log: "+enc+b" end", b"log: "+exp+b" end"))
                if pre%3==0 and post==0:
                    cases.append((vb, b"x="+enc.rstrip(b"=")+b"\n", b"x="+enc[:first]+b"***\n"))
    for form in (json.dumps(v,ensure_ascii=False)[1:-1], json.dumps(v)[1:-1], go_json(v),
                 urllib.parse.quote(v,safe=''), urllib.parse.quote_plus(v,safe=''), v):
        fb=form.encode()
        cases.append((vb, b'{"a":"'+fb+b'"}', b'{"a":"***"}'))
seen=set()
for v,i,e in cases:
    if (v,i) in seen: continue
    seen.add((v,i))
    print("\t{%s,\n\t %s,\n\t %s}," % (cstr(v),cstr(i),cstr(e)))
