// The benchmark contract for nginx, in njs. nginx does the proxying; these
// handlers do the work nginx cannot express in its configuration: the auth
// call's JSON answer, JSON validation and the lookup rewrite.

function reply(r, status, msg) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, JSON.stringify({ error: msg }));
}

function isJSON(ct) {
    if (!ct) {
        return false;
    }
    var mt = ct.split(';')[0].trim().toLowerCase();
    return mt === 'application/json' || mt.endsWith('+json');
}

// readObject validates the Content-Type and parses the body as a JSON
// object; it answers the client and returns null when it cannot.
function readObject(r) {
    if (r.method !== 'POST') {
        reply(r, 405, 'method not allowed');
        return null;
    }
    if (!isJSON(r.headersIn['Content-Type'])) {
        reply(r, 415, 'want application/json');
        return null;
    }
    var v;
    try {
        v = JSON.parse(r.requestText);
    } catch (e) {
        reply(r, 400, 'invalid JSON body');
        return null;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        reply(r, 400, 'want a JSON object');
        return null;
    }
    return v;
}

// auth is the auth_request handler: it asks the auth service (through the
// /_verify location) and hands the identity back as response headers.
function auth(r) {
    if (!r.headersIn['Authorization']) {
        r.return(401);
        return;
    }
    r.subrequest('/_verify', { method: 'POST' }, function (res) {
        if (res.status === 401 || res.status === 403) {
            r.return(401);
            return;
        }
        var id;
        try {
            id = JSON.parse(res.responseText);
        } catch (e) {
            r.return(500);
            return;
        }
        if (res.status !== 200 || typeof id.user_id !== 'string' || id.user_id === '') {
            r.return(500);
            return;
        }
        r.headersOut['X-User-Id'] = id.user_id;
        r.headersOut['X-User-Email'] = id.email || '';
        r.return(204);
    });
}

function optionalType(v, key, ok) {
    return !(key in v) || v[key] === null || ok(v[key]);
}

function search(r) {
    var v = readObject(r);
    if (v === null) {
        return;
    }
    if (!optionalType(v, 'category', function (x) { return typeof x === 'string'; }) ||
        !optionalType(v, 'max_price', Number.isInteger)) {
        reply(r, 400, 'invalid search');
        return;
    }
    r.internalRedirect('@data');
}

function lookup(r) {
    var v = readObject(r);
    if (v === null) {
        return;
    }
    if (typeof v.q !== 'string' || v.q === '') {
        reply(r, 400, 'q is required');
        return;
    }
    r.variables.lookup_body = JSON.stringify({ query: v.q.trim(), limit: 20, source: 'gateway' });
    r.internalRedirect('@lookup');
}

export default { auth, search, lookup };
