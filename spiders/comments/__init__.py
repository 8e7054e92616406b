"""Reader comments: find a page's comment sources, read them, yield :class:`CommentsResult` items.

Sources (one module each): ``inline`` (schema.org, WordPress markup, selectors from the config),
``discourse`` (forum topics, read through their JSON), ``wordpress`` (the REST API), ``disqus``
(the embed found and its frame's markup parsed; read in Chromium by ``disqus_browser``, or through
Disqus's API by ``disqus_api``). ``count`` finds the comment count a page shows,
``identity`` gives every comment a stable key, ``spider`` turns a page's response into the
requests and items of its comments.
"""
