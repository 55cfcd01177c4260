import { z } from 'zod';

// zod decides, as each schema is built, whether to compile a parser with `new Function`, and probes
// for it with eval: the page's Content-Security-Policy (script-src 'self') refuses and reports that.
// Imported first, before any module that builds schemas; the interpreted parsers are quick enough here.
z.config({ jitless: true });
