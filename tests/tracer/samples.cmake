# The samples under `ctxtrace run`, with exact expectations on their trace files
# (included from CMakeLists.txt; options documented at the top of tracer_sample.c).
#
# Sites are found in the sources by the text of the call that creates the context, so
# the tests follow edits of the samples. Counts are the contexts each program creates:
# count the ctx_with_* (and ctx_group_new) calls it executes.
set(S ${PROJECT_SOURCE_DIR}/samples)

# Party supplies: main's party (1 cancel); each of the 5 errands one order
# (deadline); the shops asked for a price: balloons 3 + cake 2 + music 1 + snacks 3 = 9
# calls (deadline). Napkins are in the cupboard: its order is released at once.
tracer_sample_test(sample_party_fixed
  --total 15 --kind cancel=1 --kind deadline=14
  --site "party=${S}/party_supplies/errands.c@ctx_with_cancel(ctx_background())"
  --site "order=${S}/party_supplies/party_fixed.c@ctx_with_timeout(e->party, ERRAND_PATIENCE)"
  --site "call=${S}/party_supplies/party_fixed.c@ctx_with_timeout(order, QUOTE_TIMEOUT)"
  --at party:cancel=1 --at order:deadline=5 --at call:deadline=9
  --parent party=background --parent order=party --parent call=order
  --function party=main --function order=run_errand --function call=run_errand
  # CTX_AUTO releases every call and the napkins order (explicit); the 4 orders on the
  # road are done when the party is called off (parent).
  --why party=explicit:1 --why order=explicit:1 --why order=parent:4 --why call=explicit:9
  --fixed --released 15 --released-live 0 --canceled 15 --freed 15)

# The same with the two leaks: the napkins order and all 9 calls are dropped live
# (ctx_unref); the party's cancel at the end still reaches (and frees) them all.
tracer_sample_test(sample_party_leaky
  --total 15 --kind cancel=1 --kind deadline=14
  --site "party=${S}/party_supplies/errands.c@ctx_with_cancel(ctx_background())"
  --site "order=${S}/party_supplies/party_leaky.c@ctx_with_timeout(e->party, ERRAND_PATIENCE)"
  --site "call=${S}/party_supplies/party_leaky.c@ctx_with_timeout(order, QUOTE_TIMEOUT)"
  --at party:cancel=1 --at order:deadline=5 --at call:deadline=9
  --parent party=background --parent order=party --parent call=order
  --function party=main --function order=run_errand --function call=run_errand
  --why party=explicit:1 --why order=parent:5
  --released 15 --released-live 10 --live-at order=1 --live-at call=9 --live-at party=0
  --canceled 15 --freed 15)

# errgroup search: the request value (1), the group's context from ctx_group_new (1
# cancel, cancelled by the failing backend's return).
tracer_sample_test(sample_group
  --total 2 --kind value=1 --kind cancel=1
  --site "request=${S}/structured/search.c@ctx_with_value(ctx_background(), &request_id_key"
  --site "group=${S}/structured/search.c@ctx_group_new(request)"
  --at request:value=1 --at group:cancel=1
  --parent request=background --parent group=request
  --function request=main --function group=main --why group=explicit:1
  --fixed --released 2 --released-live 0 --canceled 1 --freed 2)

# The same with the escaped ticker: one more context, ctx_without_cancel of the group's,
# never released; it keeps the group's context and the request alive (nothing freed).
tracer_sample_test(sample_group_leaky
  --total 3 --kind value=1 --kind cancel=1 --kind without_cancel=1
  --site "request=${S}/structured/search.c@ctx_with_value(ctx_background(), &request_id_key"
  --site "group=${S}/structured/search.c@ctx_group_new(request)"
  --site "ticker=${S}/structured/group_leaky.c@ctx_without_cancel(ctx_group_ctx(g))"
  --at request:value=1 --at group:cancel=1 --at ticker:without_cancel=1
  --parent request=background --parent group=request --parent ticker=group
  --function request=main --function group=main --function ticker=start_progress_ticker
  --why group=explicit:1
  --released 2 --released-live 0 --canceled 1 --freed 0)

# Fetch once: the crawl (1 cancel) and one timeout per page (50 deadline). Fixed: each
# page's context released (CTX_AUTO). Leaky: each dropped live (`ctx, _ :=`), then
# cancelled with the crawl at the end.
tracer_sample_test(sample_fetch_once_fixed
  --total 51 --kind cancel=1 --kind deadline=50
  --site "crawl=${S}/fetch_once/crawl.c@ctx_with_cancel(ctx_background())"
  --site "page=${S}/fetch_once/fetch_fixed.c@ctx_with_timeout(parent, FETCH_TIMEOUT)"
  --at crawl:cancel=1 --at page:deadline=50
  --parent crawl=background --parent page=crawl
  --function crawl=main --function page=fetch_once
  --why crawl=explicit:1 --why page=explicit:50
  --where "page=50:timer_armed_ns IS NOT NULL AND timer_stopped_ns IS NOT NULL"
  --fixed --released 51 --released-live 0 --canceled 51 --freed 51)
tracer_sample_test(sample_fetch_once_leaky
  --total 51 --kind cancel=1 --kind deadline=50
  --site "crawl=${S}/fetch_once/crawl.c@ctx_with_cancel(ctx_background())"
  --site "page=${S}/fetch_once/fetch_leaky.c@ctx_with_timeout(parent, FETCH_TIMEOUT)"
  --at crawl:cancel=1 --at page:deadline=50
  --parent crawl=background --parent page=crawl
  --function crawl=main --function page=fetch_once
  --why crawl=explicit:1 --why page=parent:50
  --where "page=50:timer_armed_ns IS NOT NULL AND timer_stopped_ns IS NOT NULL"
  --released 51 --released-live 50 --live-at page=50 --canceled 51 --freed 51)

# Stuck worker: app (cancel), the service-name value, the flusher's context. Fixed: a
# ctx_with_cancel, done when app is cancelled, released by the flusher. Leaky: a
# ctx_without_cancel the flusher waits on forever: never released, and it keeps the
# value and app alive (nothing freed); the process exits with the flusher blocked.
tracer_sample_test(sample_stuck_worker_fixed
  --total 3 --kind cancel=2 --kind value=1
  --site "app=${S}/stuck_worker/flusher.c@ctx_with_cancel(ctx_background())"
  --site "svc=${S}/stuck_worker/flusher.c@ctx_with_value(app, &service_key"
  --site "flusher=${S}/stuck_worker/worker_fixed.c@*ctx = ctx_with_cancel(service)"
  --at app:cancel=1 --at svc:value=1 --at flusher:cancel=1
  --parent app=background --parent svc=app --parent flusher=svc
  --function app=main --function svc=main --function flusher=flusher_context
  --why app=explicit:1 --why flusher=parent:1
  --fixed --released 3 --released-live 0 --canceled 2 --freed 3)
tracer_sample_test(sample_stuck_worker_leaky
  --total 3 --kind cancel=1 --kind value=1 --kind without_cancel=1
  --site "app=${S}/stuck_worker/flusher.c@ctx_with_cancel(ctx_background())"
  --site "svc=${S}/stuck_worker/flusher.c@ctx_with_value(app, &service_key"
  --site "flusher=${S}/stuck_worker/worker_leaky.c@*ctx = ctx_without_cancel(service)"
  --at app:cancel=1 --at svc:value=1 --at flusher:without_cancel=1
  --parent app=background --parent svc=app --parent flusher=svc
  --function app=main --function svc=main --function flusher=flusher_context
  --why app=explicit:1
  --where "flusher=1:released_ns IS NULL AND freed_ns IS NULL"
  --released 2 --released-live 0 --canceled 1 --freed 0)

# New root: the server (1 cancel) + per request: its context (cancel), its request-id
# value, its lookup's timeout (deadline) — 100 requests, every 10th hung up before its
# lookup (ctx_cancel_cause). The value is dropped before its request is released:
# reported live for the 90 requests whose client stayed (a value, not a lost cancel).
# Fixed: the lookup derives from the request's value (10 born done under a hung-up
# request). Leaky: from ctx_background(), a new root each time.
tracer_sample_test(sample_new_root_fixed
  --total 301 --kind cancel=101 --kind value=100 --kind deadline=100
  --site "server=${S}/new_root/server.c@ctx_with_cancel(ctx_background())"
  --site "req=${S}/new_root/server.c@ctx_with_cancel(server)"
  --site "tagged=${S}/new_root/server.c@ctx_with_value(req, &request_id_key"
  --site "query=${S}/new_root/lookup_fixed.c@ctx_with_timeout(ctx, LOOKUP_TIMEOUT)"
  --at server:cancel=1 --at req:cancel=100 --at tagged:value=100 --at query:deadline=100
  --parent server=background --parent req=server --parent tagged=req --parent query=tagged
  # handle_request is inlined into main at -O1/-O2: its sites are inlined frames.
  --function server=main --function req=handle_request --function tagged=handle_request
  --function query=lookup_user
  --why server=explicit:1 --why req=explicit:100 --why query=explicit:90 --why query=parent:10
  --where "req=10:cancel_cause = 104 AND cancel_reason = 'client hung up'"
  --fixed --released 301 --released-live 90 --live-at tagged=90 --canceled 201 --freed 301)
tracer_sample_test(sample_new_root_leaky
  --total 301 --kind cancel=101 --kind value=100 --kind deadline=100
  --site "server=${S}/new_root/server.c@ctx_with_cancel(ctx_background())"
  --site "req=${S}/new_root/server.c@ctx_with_cancel(server)"
  --site "tagged=${S}/new_root/server.c@ctx_with_value(req, &request_id_key"
  --site "query=${S}/new_root/lookup_leaky.c@ctx_with_timeout(ctx_background(), LOOKUP_TIMEOUT)"
  --at server:cancel=1 --at req:cancel=100 --at tagged:value=100 --at query:deadline=100
  --parent server=background --parent req=server --parent tagged=req --parent query=background
  # handle_request is inlined into main at -O1/-O2: its sites are inlined frames.
  --function server=main --function req=handle_request --function tagged=handle_request
  --function query=lookup_user
  --why server=explicit:1 --why req=explicit:100 --why query=explicit:100
  --where "req=10:cancel_cause = 104 AND cancel_reason = 'client hung up'"
  --released 301 --released-live 90 --live-at tagged=90 --canceled 201 --freed 301)

# Long timeout: the request's 1 s deadline + 3 inventory calls. Fixed: 200 ms, each call
# arms its own timer. Leaky: 5 s under the 1 s request — the effective deadline is the
# request's, and no timer is armed (ineffective deadline).
tracer_sample_test(sample_long_timeout_fixed
  --total 4 --kind deadline=4
  --site "request=${S}/long_timeout/checkout.c@ctx_with_timeout(ctx_background(), REQUEST_TIMEOUT)"
  --site "call=${S}/long_timeout/stock_fixed.c@ctx_with_timeout(request, STOCK_TIMEOUT)"
  --at request:deadline=1 --at call:deadline=3
  --parent request=background --parent call=request
  --function request=main --function call=reserve_stock
  --why request=explicit:1 --why call=explicit:3
  --where "call=3:deadline_ns = requested_deadline_ns AND timer_armed_ns IS NOT NULL AND timer_stopped_ns IS NOT NULL"
  --fixed --released 4 --released-live 0 --canceled 4 --freed 4)
tracer_sample_test(sample_long_timeout_leaky
  --total 4 --kind deadline=4
  --site "request=${S}/long_timeout/checkout.c@ctx_with_timeout(ctx_background(), REQUEST_TIMEOUT)"
  --site "call=${S}/long_timeout/stock_leaky.c@ctx_with_timeout(request, STOCK_TIMEOUT)"
  --at request:deadline=1 --at call:deadline=3
  --parent request=background --parent call=request
  --function request=main --function call=reserve_stock
  --why request=explicit:1 --why call=explicit:3
  --where "call=3:requested_deadline_ns > deadline_ns AND timer_armed_ns IS NULL AND deadline_ns = (SELECT deadline_ns FROM contexts r WHERE r.id = contexts.parent_id)"
  --released 4 --released-live 0 --canceled 4 --freed 4)

# Cache: the service, 10 requests, and (fixed) the cache's own context; 4 refreshes
# (requests 1, 4, 7, 10). Leaky: the cache keeps request 1's context (ctx_ref, never
# dropped: request 1 is never released nor freed, and so neither is the service);
# refreshes 2-4 are born done under it.
tracer_sample_test(sample_cache_ctx_fixed
  --total 16 --kind cancel=12 --kind deadline=4
  --site "service=${S}/cache_ctx/rates.c@ctx_with_cancel(ctx_background())"
  --site "req=${S}/cache_ctx/rates.c@ctx_with_cancel(service)"
  --site "cache=${S}/cache_ctx/cache_fixed.c@ctx_with_cancel(service)"
  --site "refresh=${S}/cache_ctx/cache_fixed.c@ctx_with_timeout(c->ctx, REFRESH_TIMEOUT)"
  --at service:cancel=1 --at req:cancel=10 --at cache:cancel=1 --at refresh:deadline=4
  --parent service=background --parent req=service --parent cache=service --parent refresh=cache
  --function service=main --function req=main --function cache=cache_open --function refresh=cache_refresh
  --why service=explicit:1 --why req=explicit:10 --why cache=explicit:1 --why refresh=explicit:4
  --fixed --released 16 --released-live 0 --canceled 16 --freed 16)
tracer_sample_test(sample_cache_ctx_leaky
  --total 15 --kind cancel=11 --kind deadline=4
  --site "service=${S}/cache_ctx/rates.c@ctx_with_cancel(ctx_background())"
  --site "req=${S}/cache_ctx/rates.c@ctx_with_cancel(service)"
  --site "refresh=${S}/cache_ctx/cache_leaky.c@ctx_with_timeout(c->ctx, REFRESH_TIMEOUT)"
  --at service:cancel=1 --at req:cancel=10 --at refresh:deadline=4
  --parent service=background --parent req=service --parent refresh=req
  --function service=main --function req=main --function refresh=cache_refresh
  --why service=explicit:1 --why req=explicit:10 --why refresh=explicit:1 --why refresh=parent:3
  --where "refresh=4:parent_id = (SELECT min(id) FROM contexts r WHERE r.parent_id = (SELECT parent_id FROM contexts s WHERE s.id = contexts.parent_id) AND r.kind = 'cancel')"
  --where "req=1:released_ns IS NULL AND freed_ns IS NULL"
  --released 14 --released-live 0 --canceled 15 --freed 13)

# HTTP server: the server + per request its context and its backend call's timeout;
# 8 requests, 3 clients disconnect mid-request. Fixed: the disconnect cancels the
# request (cause ECONNRESET), so its call ends by its parent. Leaky: both are only
# unref'd — the request is dropped live (its backend thread still holds the call, which
# ends at the server's shutdown).
tracer_sample_test(sample_http_server_fixed
  --total 17 --kind cancel=9 --kind deadline=8
  --site "server=${S}/http_server/server.c@ctx_with_cancel(ctx_background())"
  --site "req=${S}/http_server/handler_fixed.c@ctx_with_cancel(server)"
  --site "call=${S}/http_server/handler_fixed.c@ctx_with_timeout(req, BACKEND_TIMEOUT)"
  --at server:cancel=1 --at req:cancel=8 --at call:deadline=8
  --parent server=background --parent req=server --parent call=req
  --function server=main --function req=handle_request --function call=handle_request
  --why server=explicit:1 --why req=explicit:8 --why call=explicit:5 --why call=parent:3
  --where "req=3:cancel_cause = 104 AND cancel_reason = 'client disconnected'"
  --fixed --released 17 --released-live 0 --canceled 17 --freed 17)
tracer_sample_test(sample_http_server_leaky
  --total 17 --kind cancel=9 --kind deadline=8
  --site "server=${S}/http_server/server.c@ctx_with_cancel(ctx_background())"
  --site "req=${S}/http_server/handler_leaky.c@ctx_with_cancel(server)"
  --site "call=${S}/http_server/handler_leaky.c@ctx_with_timeout(req, BACKEND_TIMEOUT)"
  --at server:cancel=1 --at req:cancel=8 --at call:deadline=8
  --parent server=background --parent req=server --parent call=req
  --function server=main --function req=handle_request --function call=handle_request
  --why server=explicit:1 --why req=explicit:5 --why req=parent:3 --why call=explicit:5 --why call=parent:3
  --where "req=3:cancel_reason = 'server shutting down'"
  --released 17 --released-live 3 --live-at req=3 --live-at call=0 --canceled 17 --freed 17)

# Job processor: the root + one timeout per job (12). 7 quick jobs finish, 2 fail
# validation, 3 long ones are abandoned when the root is cancelled at shutdown. Leaky:
# the 2 failed jobs' contexts are dropped live, and end with the root.
tracer_sample_test(sample_job_processor_fixed
  --total 13 --kind cancel=1 --kind deadline=12
  --site "root=${S}/job_processor/processor.c@ctx_with_cancel(ctx_background())"
  --site "job=${S}/job_processor/jobs_fixed.c@ctx_with_timeout(root, JOB_TIMEOUT)"
  --at root:cancel=1 --at job:deadline=12
  --parent root=background --parent job=root
  --function root=main --function job=run_job
  --why root=explicit:1 --why job=explicit:9 --why job=parent:3
  --fixed --released 13 --released-live 0 --canceled 13 --freed 13)
tracer_sample_test(sample_job_processor_leaky
  --total 13 --kind cancel=1 --kind deadline=12
  --site "root=${S}/job_processor/processor.c@ctx_with_cancel(ctx_background())"
  --site "job=${S}/job_processor/jobs_leaky.c@ctx_with_timeout(root, JOB_TIMEOUT)"
  --at root:cancel=1 --at job:deadline=12
  --parent root=background --parent job=root
  --function root=main --function job=run_job
  --why root=explicit:1 --why job=explicit:7 --why job=parent:5
  --released 13 --released-live 2 --live-at job=2 --canceled 13 --freed 13)

# Kitchen sink: every part of the API, used correctly. 46 contexts at 19 sites. Values
# dropped under a live cancellable ancestor report live (tagged order, the 4 cooks'
# names); every cancellable context is cancelled, none dropped live; all freed.
set(K ${S}/kitchen_sink/kitchen.c)
tracer_sample_test(sample_kitchen_sink
  --total 46 --kind cancel=10 --kind deadline=29 --kind value=6 --kind without_cancel=1
  --site "service=${K}@CTX_AUTO ctx_t *service = ctx_with_cancel(ctx_background())"
  --site "kitchen=${K}@ctx_with_value(service, &kitchen_key"
  --site "bake=${K}@ctx_with_timeout(kitchen, BAKE_TIME)"
  --site "proof=${K}@ctx_with_deadline(kitchen, ctx_now() + PROOF_TIME)"
  --site "late=${K}@ctx_with_deadline(kitchen, ctx_now() - CTX_MILLISECOND)"
  --site "course=${K}@ctx_t *course = ctx_with_cancel(kitchen)"
  --site "dish=${K}@dishes[i] = ctx_with_cancel(course)"
  --site "dishtimer=${K}@ctx_with_timeout(course, DISH_TIMER)"
  --site "dessert=${K}@ctx_t *dessert = ctx_with_cancel(course)"
  --site "tab=${K}@ctx_t *tab = ctx_with_cancel(kitchen)"
  --site "order=${K}@ctx_t *order = ctx_with_cancel(kitchen)"
  --site "tagged=${K}@ctx_with_value(order, &order_key"
  --site "detached=${K}@ctx_without_cancel(tagged)"
  --site "job=${K}@ctx_with_timeout(detached, WASH_BUDGET)"
  --site "group1=${K}@ctx_group_t *g = ctx_group_new(kitchen)"
  --site "group2=${K}@    g = ctx_group_new(kitchen)"
  --site "shift=${K}@ctx_with_timeout(ctx_background(), SHIFT_LENGTH)"
  --site "me=${K}@ctx_with_value(shift, &cook_key"
  --site "ticket=${K}@ctx_with_timeout(me, TICKET_TIME)"
  --at service:cancel=1 --at kitchen:value=1 --at bake:deadline=1 --at proof:deadline=1
  --at late:deadline=1 --at course:cancel=1 --at dish:cancel=3 --at dishtimer:deadline=1
  --at dessert:cancel=1 --at tab:cancel=1 --at order:cancel=1 --at tagged:value=1
  --at detached:without_cancel=1 --at job:deadline=1 --at group1:cancel=1 --at group2:cancel=1
  --at shift:deadline=4 --at me:value=4 --at ticket:deadline=20
  --parent service=background --parent kitchen=service --parent bake=kitchen
  --parent proof=kitchen --parent late=kitchen --parent course=kitchen --parent dish=course
  --parent dishtimer=course --parent dessert=course --parent tab=kitchen --parent order=kitchen
  --parent tagged=order --parent detached=tagged --parent job=detached
  --parent group1=kitchen --parent group2=kitchen --parent shift=background --parent me=shift
  --parent ticket=me
  # The function making each call, even where -O1/-O2 inline it into its caller (oven,
  # course, tab, dishwasher_start, pass and evening are: the site is then an inlined
  # frame, named as at -O0).
  --function service=evening --function kitchen=evening --function bake=oven
  --function proof=oven --function late=oven --function course=course --function dish=course
  --function dishtimer=course --function dessert=course --function tab=tab
  --function order=dishwasher_start --function tagged=dishwasher_start
  --function detached=dishwasher_start --function job=dishwasher_start
  --function group1=pass --function group2=pass --function shift=cook_main
  --function me=cook_main --function ticket=cook_main
  # Timers that fire while held, a deadline already past; the course's cancel reaching
  # its dishes (and the dessert born done); everything else released.
  --why bake=deadline:1 --why proof=deadline:1 --why late=deadline:1
  --why service=explicit:1 --why course=explicit:1 --why dish=parent:3
  --why dishtimer=parent:1 --why dessert=parent:1 --why tab=explicit:1 --why order=explicit:1
  --why job=explicit:1 --why group1=explicit:1 --why group2=explicit:1
  --why shift=explicit:4 --why ticket=explicit:20
  --where "course=1:cancel_cause = 104"
  --where "service=1:cancel_cause = 108"
  --fixed --released 46 --released-live 5 --live-at tagged=1 --live-at me=4
  --live-at kitchen=0 --canceled 39
  # All freed before the program ends, except perhaps the service: it is freed when the
  # kitchen value is, whose last reference the lights-off callback thread may drop a
  # moment after main() saw the value's destructor run.
  --count "45:freed_ns IS NOT NULL AND site(create_stack) IS NOT {service}")

# A server stopped by SIGTERM through ctx_with_signals: the signal context (1 cancel,
# cancelled by the runtime's signal thread, not main's (1): cause 15 "SIGTERM"),
# the serving context and the group's (2 cancel), 10 requests under
# ctx_with_timeout_cause (deadline), and the shutdown's grace period (1 deadline).
set(G ${S}/graceful_shutdown/server.c)
tracer_sample_test(sample_graceful_shutdown
  --total 14 --kind cancel=3 --kind deadline=11
  --site "stop=${G}@ctx_with_signals(ctx_background(), &stop_signals)"
  --site "serving=${G}@srv.serving = ctx_with_cancel(ctx_background())"
  --site "group=${G}@ctx_group_new(srv.serving)"
  --site "request=${G}@ctx_with_timeout_cause(group_ctx, REQUEST_TIMEOUT"
  --site "grace=${G}@ctx_with_timeout(ctx_background(), GRACE)"
  --at stop:cancel=1 --at serving:cancel=1 --at group:cancel=1 --at request:deadline=10
  --at grace:deadline=1
  --parent stop=background --parent serving=background --parent group=serving
  --parent request=group --parent grace=background
  --function stop=main --function serving=main --function group=main
  --function request=handle_conn --function grace=main
  --why stop=explicit:1 --why serving=explicit:1 --why group=explicit:1
  --why request=explicit:10 --why grace=explicit:1
  --where "stop=1:cancel_cause=15 AND cancel_reason='SIGTERM' AND cancel_thread <> 1"
  --where "request=10:cancel_cause=125 AND cancel_stack IS NOT NULL"
  # The group's threads: one per connection (10), each created at the ctx_group_go call.
  --site "go=${G}@ctx_group_go(srv->group, handle_conn, c)" --at go=0
  --count "1:cancel_cause=15 AND (SELECT count(*) FROM threads WHERE site(create_stack) = {go}) = 10"
  --fixed --released 14 --released-live 0 --canceled 14 --freed 14)
