import type { Middleware } from "koa";

/** What @koa/router leaves on the context: every route whose path matched, with its methods. */
interface RoutedContext {
  matched?: readonly { methods: readonly string[] }[];
}

/**
 * Answers 405 with an `Allow` header when the path exists but not for this method, whatever the
 * method (TRACE and other methods the routers do not implement would otherwise get 501, a 5xx that
 * pages someone); OPTIONS gets 204 with `Allow`. Unknown paths stay 404.
 */
export function answerUnsupportedMethods(): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.status !== 404 || ctx.body != null) return;
    const matched = (ctx as unknown as RoutedContext).matched ?? [];
    const allowed = [...new Set(matched.flatMap((route) => route.methods))];
    if (allowed.length === 0) return;
    ctx.set("Allow", allowed.join(", "));
    if (ctx.method === "OPTIONS") {
      ctx.status = 204;
      return;
    }
    ctx.status = 405;
    ctx.body = { error: "method_not_allowed", allowed };
  };
}
