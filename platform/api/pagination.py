"""Pages of lists: ?page=N&page_size=M, over a stable order (every list ends its order by id)."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
