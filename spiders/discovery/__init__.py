"""Discovery: find new articles on a topic in feeds, sitemaps, search pages and related links.

A leaf package (it imports nothing from ``monitor/`` or ``storage/``). Each module does one job:

- :mod:`~spiders.discovery.items`: the typed values (a source, a candidate article, a page);
- :mod:`~spiders.discovery.feeds`: RSS, Atom and JSON Feed, parsed safely;
- :mod:`~spiders.discovery.sitemaps`: sitemaps, news sitemaps and sitemap indexes;
- :mod:`~spiders.discovery.listing`: search and listing pages, with bounded pagination;
- :mod:`~spiders.discovery.links`: related links and "available in" translation links;
- :mod:`~spiders.discovery.canonical`: one URL per article (canonical link, no trackers);
- :mod:`~spiders.discovery.safety` and :mod:`~spiders.discovery.ssrf`: refuse URLs that point
  at loopback, private, link-local or metadata addresses (a Scrapy downloader middleware);
- :mod:`~spiders.discovery.spider`: the :class:`DiscoverySpider` that ties them together.

Errors (:mod:`spiders.discovery.errors`)::

    SpiderError
     └── DiscoveryError        .url
          ├── FeedError        .reason: not_a_feed | xml_entities | too_large | empty
          ├── SitemapError     .reason: not_a_sitemap | xml_entities | too_large | empty
          └── ListingError     .reason: bad_template | bad_selector
    IgnoreRequest (Scrapy)
     └── BlockedAddress        .url, .address, .reason (the SSRF guard refused a request)
"""
